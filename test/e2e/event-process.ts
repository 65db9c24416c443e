// A long-running fn process that prints NDJSON events (fn dev --json, fn serve --json): its events
// as they come, waiting for one, and stopping it (SIGINT, then SIGKILL) or killing it (SIGKILL).
import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { bin } from './helpers.js';

export interface JsonEvent {
  event: string;
  [key: string]: unknown;
}

export interface EventProcess {
  /** Every event printed so far; kept up to date. */
  events: JsonEvent[];
  /** Resolves with the first event (already printed or still to come) that matches. */
  waitFor(predicate: (event: JsonEvent, index: number) => boolean, timeoutMs?: number): Promise<JsonEvent>;
  /** Stderr so far, for failure messages. */
  stderr(): string;
  /** SIGINT, then SIGKILL if it has not exited in time; resolves with the exit code. */
  stop(): Promise<{ exitCode: number | undefined; signal: string | undefined }>;
  /** SIGKILL now: no cleanup at all, the way a crash looks. */
  kill(): Promise<void>;
  /** Resolves with the listening event; if none comes in time, stops the process and rejects. */
  listening(timeoutMs: number): Promise<JsonEvent>;
}

const STOP_TIMEOUT_MS = 5_000;

export function spawnEventProcess(
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; label: string },
): EventProcess {
  const child: ResultPromise = execa('node', [bin, ...args], {
    cwd: options.cwd,
    reject: false,
    stdin: 'ignore',
    buffer: false,
    env: { NO_COLOR: '1', FORCE_COLOR: undefined, CI: '1', ...options.env },
    extendEnv: true,
  });
  const events: JsonEvent[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let exited = false;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    try {
      events.push(JSON.parse(line) as JsonEvent);
    } catch {
      events.push({ event: 'unparsed-line', line });
    }
    for (const wake of [...waiters]) wake();
  });
  const done = child.then((result) => {
    exited = true;
    for (const wake of [...waiters]) wake();
    return result;
  });

  const waitFor = (predicate: (event: JsonEvent, index: number) => boolean, timeoutMs = 10_000): Promise<JsonEvent> =>
    new Promise((resolve, reject) => {
      let checked = 0;
      const finish = (then: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      const check = (): void => {
        for (; checked < events.length; checked++) {
          const event = events[checked]!;
          if (predicate(event, checked)) return finish(() => resolve(event));
        }
        if (exited)
          finish(() =>
            reject(new Error(`${options.label} exited before the awaited event; events: ${JSON.stringify(events)}\nstderr: ${stderr}`)),
          );
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `no matching ${options.label} event within ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-10))}\nstderr: ${stderr}`,
              ),
            ),
          ),
        timeoutMs,
      );
      waiters.add(check);
      check();
    });

  const stop = async () => {
    if (!exited) child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const result = await done;
    clearTimeout(killer);
    lines.close();
    return { exitCode: result.exitCode, signal: result.signal };
  };
  const kill = async () => {
    if (!exited) child.kill('SIGKILL');
    await done;
    lines.close();
  };
  const listening = async (timeoutMs: number): Promise<JsonEvent> => {
    try {
      return await waitFor((e) => e.event === 'listening', timeoutMs);
    } catch (error) {
      await stop();
      throw error;
    }
  };

  return { events, waitFor, stderr: () => stderr, stop, kill, listening };
}
