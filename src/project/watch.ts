// Watching an app's files: the one watcher of fn dev, fn validate --watch and fn types --watch.
// chokidar tells that something changed; what changed is read from the files themselves (size
// and modification time), because chokidar sends no event for a second save of a file within
// 50 ms of the first. The policy (ChangeScheduler):
// - changes are gathered for DEBOUNCE_MS after the last event, then one run sees them all;
// - one run at a time: a change during a run gives exactly one more run after it;
// - SETTLE_MS after each run, the files are looked at again, and a change that sent no event
//   (or came in while the run read the files) counts as an event.
// Every run starts DEBOUNCE_MS after what asked for it, so a file being written is read whole.
// So a save is never missed, whatever its timing. chokidar loads only when a watch starts.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DEBOUNCE_MS = 25;
export const SETTLE_MS = 150;

/** Size and modification time of every file under some paths, by path. */
export type Snapshot = Map<string, string>;

/** Never watched: dependencies and the temp files of atomic writes. */
export function ignoredByDefault(path: string): boolean {
  return path.split(/[\\/]/).includes('node_modules') || path.endsWith('.tmp');
}

export function snapshotFiles(paths: readonly string[], ignore: (path: string) => boolean = ignoredByDefault): Snapshot {
  const out: Snapshot = new Map();
  const walk = (p: string) => {
    if (ignore(p)) return;
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(p);
      } catch {
        return;
      }
      for (const name of names) walk(join(p, name));
    } else out.set(p, `${st.size}:${st.mtimeMs}`);
  };
  paths.forEach(walk);
  return out;
}

/** The paths added, changed or removed between two snapshots, sorted. */
export function changedPaths(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [path, stamp] of after) if (before.get(path) !== stamp) out.push(path);
  for (const path of before.keys()) if (!after.has(path)) out.push(path);
  return out.sort();
}

export interface Timers {
  set: (fn: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
}

const realTimers: Timers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * When to run again (see the top of this file). `look` reads the files; `run` gets the paths
 * that changed since the last run began (empty when only an event says so); a run that throws
 * goes to `onError` and the watch goes on.
 */
export class ChangeScheduler {
  private seen: Snapshot;
  private debounce: unknown;
  private settle: unknown;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly look: () => Snapshot,
    private readonly run: (changed: string[]) => void | Promise<void>,
    private readonly onError: (error: unknown) => void,
    baseline: Snapshot | undefined,
    private readonly timers: Timers = realTimers,
  ) {
    this.seen = baseline ?? look();
  }

  /** A watch event: a run DEBOUNCE_MS after the last one. */
  changed(): void {
    if (this.closed) return;
    this.timers.clear(this.debounce);
    this.debounce = this.timers.set(() => this.start(), DEBOUNCE_MS);
  }

  /** Looks at the files now (as when a watch starts): if they differ from what was seen, a change. */
  check(): void {
    if (this.closed || this.running) return;
    if (changedPaths(this.seen, this.look()).length) this.changed();
  }

  /** Resolves when no run is going on. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  close(): Promise<void> {
    this.closed = true;
    this.timers.clear(this.debounce);
    this.timers.clear(this.settle);
    return this.idle();
  }

  private start(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.timers.clear(this.settle);
    this.running = (async () => {
      do {
        this.again = false;
        const now = this.look();
        const changed = changedPaths(this.seen, now);
        this.seen = now;
        try {
          await this.run(changed);
        } catch (error) {
          this.onError(error);
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = undefined;
      if (!this.closed) this.settle = this.timers.set(() => this.check(), SETTLE_MS);
    });
  }
}

export interface AppWatcher {
  close(): Promise<void>;
}

export interface WatchAppOptions {
  /** Folders and files to watch (missing ones are fine: they count once they appear). */
  paths: string[];
  /** Paths not to watch, besides node_modules and *.tmp. */
  ignore?: (path: string) => boolean;
  /** What the caller's own first run saw: a change since then gives a run once the watch is ready. */
  baseline?: Snapshot;
  /** Runs on changes, one at a time; gets the paths changed since the last run began. */
  run: (changed: string[]) => void | Promise<void>;
  /** A run that threw; the watch goes on. */
  onError: (error: unknown) => void;
}

/** Watches until closed; resolves once the watch is ready (no change after that is missed). */
export async function watchApp(options: WatchAppOptions): Promise<AppWatcher> {
  const ignore = (p: string) => ignoredByDefault(p) || (options.ignore?.(p) ?? false);
  const look = () => snapshotFiles(options.paths, ignore);
  const scheduler = new ChangeScheduler(look, options.run, options.onError, options.baseline);
  const { watch } = await import('chokidar');
  const watcher = watch(options.paths, { ignoreInitial: true, ignored: ignore });
  watcher.on('all', () => scheduler.changed());
  await new Promise<void>((ready) => watcher.once('ready', () => ready()));
  scheduler.check();
  return {
    close: async () => {
      await watcher.close();
      await scheduler.close();
    },
  };
}
