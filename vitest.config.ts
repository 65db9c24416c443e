import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that take longest start first, so that on a clean clone (no timings cached yet) a
 * long one does not start last and stretch the run; after them, vitest's own order.
 */
const LONGEST = [
  'e2e/install-from-source.test.ts',
  'e2e/types.test.ts',
  'e2e/pack.test.ts',
  'e2e/isolation.test.ts',
  'e2e/dev.test.ts',
  'e2e/deploy.test.ts',
  'e2e/deploy-reliability.test.ts',
  'unit/runtime/host.test.ts',
  'unit/data/runtime.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const at = LONGEST.findIndex((name) => file.moduleId.replace(/\\/g, '/').endsWith(name));
      return at < 0 ? LONGEST.length : at;
    };
    return sorted
      .map((file, index) => ({ file, index }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
      .map(({ file }) => file);
  }
}

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
    sequence: { sequencer: LongestFirst },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: ['test/e2e/global-setup.ts'] } },
    ],
  },
});
