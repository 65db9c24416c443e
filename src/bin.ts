// The process entry of bin/fn.js: binds main() to this process's argv, streams, environment and
// signals, and sets the exit code. `fn --version` answers here, before commander loads.
import { readFileSync } from 'node:fs';
import { ExitCode, FnError } from './errors.js';

const argv = process.argv.slice(2);

// A closed pipe (fn validate | head) ends the output, not the process with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(version + '\n');
} else {
  const abort = new AbortController();
  // The first signal asks the command to stop; a second one ends the process at once.
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(ExitCode.INTERRUPTED);
    abort.abort(new FnError('INTERRUPTED', 'interrupted'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const { main } = await import('./cli.js');
  process.exitCode = await main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: abort.signal,
    version,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
