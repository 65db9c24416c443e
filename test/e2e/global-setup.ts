// The e2e tests run the built CLI; `npm test` builds first. Fail early and clearly when dist/ is missing.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const cli = join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run npm run build (npm test does it for you)');
}
