// npm's `prepare` script: builds dist/ (the schema check, then tsc). npm runs it on `npm install`
// and `npm ci` in a clone, on `npm pack`, and when it installs fn from git or from a folder.
// For those last two, npm (11 included: npm/cli#8440) runs prepare without the devDependencies
// the build needs, when it installs globally. This script installs them first in that case, into
// this folder only, with scripts off so that it does not run itself again.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** npm itself: the one running this script, else the one on the PATH. */
function npm(args) {
  const cli = process.env.npm_execpath;
  const [command, argv] = cli && cli.endsWith('.js') ? [process.execPath, [cli, ...args]] : ['npm', args];
  const run = spawnSync(command, argv, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' && command === 'npm' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

const missing = Object.keys(pkg.devDependencies ?? {}).filter((name) => !existsSync(join(root, 'node_modules', name, 'package.json')));
if (missing.length) {
  console.error(`fn prepare: installing the build tools first (${missing.join(', ')} missing)`);
  npm(['install', '--global=false', `--prefix=${root}`, '--include=dev', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund']);
}
npm(['run', 'build']);
