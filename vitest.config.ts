import { defineConfig } from 'vitest/config';

// Two projects: `npm run test:unit` runs the model's tests alone (no build needed); the e2e
// project runs the built CLI (in-process through main() for most tests, as a process of its own
// where the process is the point). Most test files wait on child processes, servers and disks
// rather than the CPU, so three files run at once even on two cores.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: 3 } },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/e2e/global-setup.ts'] } },
    ],
  },
});
