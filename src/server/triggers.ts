// Running an app's triggers: scheduled ones on their cron (UTC), database ones on a change stream
// of the app's runner, each function run as the system user with the event as its one argument.
// Each tick and each event fires once: a tick or an event counts as done when its function ran
// (succeeded or threw: App Services does not retry), and only then is it written to the state
// store; a restart resumes from there (catching up on what it missed unless skip_catchup_events).
// A run that never reached its function (the runner died, the server is closing) is not written,
// so it runs again. Runs go to the call log with the trigger's name.
// Authentication triggers fire from the client API and the admin users routes (authEvent), once
// per login, new user or deleted user, after the change is stored; they keep no state (an event
// is in memory only: one in flight when the process dies is lost).
import { cronMatches, nextTick, parseCron, type Cron } from '../app/cron.js';
import { OPERATION_TYPES, type TriggerSpec } from '../app/triggers.js';
import type { AppRuntime, WatchHandlers } from '../runtime/runner-client.js';
import type { WatchSpec } from '../runtime/runner-wire.js';
import { systemUser, type CallOutcome, type CallRequest, type FnUser } from '../runtime/types.js';
import { setLoggedArguments, type CallLog, type CallLogEntry } from './logs.js';
import type { TriggerState, TriggerStateStore } from './trigger-state.js';

/** What triggers need of an app's runtime: calls, and (for database triggers) change streams. */
export type TriggerRuntime = AppRuntime & {
  watch?: (source: string, options: WatchSpec, handlers: WatchHandlers) => () => void;
};

export interface AppTriggersOptions {
  appId: string;
  runtime: TriggerRuntime;
  state: TriggerStateStore;
  log: CallLog;
  /** Each run's log entry, once it has its outcome. */
  onRun?: (entry: CallLogEntry) => void;
  /** What the user should know about a trigger: it stopped, missed ticks were skipped. */
  onNotice?: (trigger: string, message: string) => void;
}

/** Missed ticks fired on start at most (the rest are skipped, and said so). */
export const MAX_CATCHUP_TICKS = 60;
/** Unordered database triggers: events in flight at most. */
export const MAX_UNORDERED = 100;
/** A run whose runner died is tried this many times in all. */
const ATTEMPTS = 3;
const RETRY_MS = 1_000;
const MINUTE = 60_000;
/** setTimeout's longest delay. */
const MAX_DELAY = 2 ** 31 - 1;

/** What an authentication event is about: a login, a new user, a deleted user. */
export type AuthOperation = 'LOGIN' | 'CREATE' | 'DELETE';

const NO_HTTP = { remoteIPAddress: '', rawHeaders: [], httpMethod: '', rawQueryString: '' };

/** Outcomes of runs that never reached the function: not done, so run again. */
function unfinished(outcome: CallOutcome): boolean {
  return !outcome.ok && (outcome.error.code === 'WORKER_EXITED' || outcome.error.code === 'SERVER_CLOSING');
}

/** The stream a database trigger's token belongs to. */
export function streamKey(spec: TriggerSpec): string {
  const db = spec.database!;
  return `${db.service}/${db.database}/${db.collection}`;
}

/** A database trigger's change stream options: the operation types, match and project as a pipeline. */
export function watchSpecOf(spec: TriggerSpec): WatchSpec {
  const db = spec.database!;
  const pipeline: Record<string, unknown>[] = [];
  if (db.operationTypes.length)
    pipeline.push({ $match: { operationType: { $in: db.operationTypes.map((t) => OPERATION_TYPES[t] ?? t.toLowerCase()) } } });
  if (db.match) pipeline.push({ $match: db.match });
  if (db.project) pipeline.push({ $project: db.project });
  return {
    ...(db.database ? { db: db.database } : {}),
    ...(db.collection ? { coll: db.collection } : {}),
    ...(pipeline.length ? { pipeline } : {}),
    fullDocument: db.fullDocument ? 'updateLookup' : 'default',
    fullDocumentBeforeChange: db.fullDocumentBeforeChange ? 'whenAvailable' : 'off',
  };
}

interface Running {
  /** The spec as JSON: a changed one is stopped and started again. */
  key: string;
  stop: () => void;
  /** Settles when the runs it started are over. */
  idle: () => Promise<void>;
}

export class AppTriggers {
  private specs = new Map<string, TriggerSpec>();
  private readonly running = new Map<string, Running>();
  /** Authentication trigger runs in flight. */
  private readonly authRuns = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: AppTriggersOptions) {}

  /** The triggers as configured now: new and changed ones start, removed and disabled ones stop. */
  set(specs: TriggerSpec[]): void {
    if (this.closed) return;
    this.specs = new Map(specs.map((s) => [s.name, s]));
    for (const [name, running] of this.running) {
      const spec = this.specs.get(name);
      if (!spec || JSON.stringify(spec) !== running.key || !this.runnable(spec)) {
        running.stop();
        this.running.delete(name);
      }
    }
    for (const spec of specs) {
      if (this.running.has(spec.name) || !this.runnable(spec)) continue;
      const started =
        spec.type === 'SCHEDULED' ? this.startScheduled(spec) : spec.type === 'DATABASE' ? this.startDatabase(spec) : undefined;
      if (started) this.running.set(spec.name, { key: JSON.stringify(spec), ...started });
    }
  }

  list(): TriggerSpec[] {
    return [...this.specs.values()];
  }

  private runnable(spec: TriggerSpec): boolean {
    // Authentication triggers have nothing to start: authEvent fires them.
    return !spec.disabled && spec.broken === undefined && spec.type !== 'AUTHENTICATION';
  }

  /**
   * An authentication event: each enabled AUTHENTICATION trigger of this operation whose providers
   * include one of `providers` (or that names none) runs with { operationType, providers, user,
   * time } as its one argument, in canonical EJSON (time is a Date). Returns at once.
   */
  authEvent(operationType: AuthOperation, providers: string[], user: FnUser): void {
    if (this.closed) return;
    const event = { operationType, providers, user, time: { $date: { $numberLong: String(Date.now()) } } };
    for (const spec of this.specs.values()) {
      if (spec.type !== 'AUTHENTICATION' || spec.disabled || spec.broken !== undefined || !spec.auth) continue;
      if (spec.auth.operationType !== operationType) continue;
      const watched = spec.auth.providers;
      if (watched.length && !providers.some((p) => watched.includes(p))) continue;
      const run = (async () => {
        for (let attempt = 1; ; attempt++) {
          const outcome = await this.run(spec, [event], true);
          if (!unfinished(outcome) || attempt >= ATTEMPTS || this.closed) return;
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      })().catch((error: unknown) => this.notice(spec.name, `did not run: ${(error as Error)?.message ?? String(error)}`));
      this.authRuns.add(run);
      void run.finally(() => this.authRuns.delete(run));
    }
  }

  /** Fires one trigger by hand (its state is left as it is): `event` is the argument (none for a scheduled one). */
  async fire(name: string, event?: unknown): Promise<{ spec: TriggerSpec; outcome: CallOutcome } | undefined> {
    const spec = this.specs.get(name);
    if (!spec) return undefined;
    const args = spec.type === 'SCHEDULED' || event === undefined ? [] : [event];
    return { spec, outcome: await this.run(spec, args, spec.type === 'DATABASE') };
  }

  /** Stops every trigger; resolves when the runs in flight are over (and written). */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.running.values()];
    this.running.clear();
    for (const r of running) r.stop();
    await Promise.all([...running.map((r) => r.idle()), ...this.authRuns]);
  }

  private run(spec: TriggerSpec, args: unknown[], ejson: boolean): Promise<CallOutcome> {
    const request: CallRequest = {
      name: spec.functionName,
      args,
      caller: systemUser(),
      via: 'admin',
      runAs: { system: true },
      request: NO_HTTP,
      ...(ejson && args.length ? { ejson: true as const } : {}),
    };
    return this.options.runtime.call(request).then((outcome) => {
      this.record(spec, request, outcome);
      return outcome;
    });
  }

  private record(spec: TriggerSpec, request: CallRequest, outcome: CallOutcome): void {
    const entry: Omit<CallLogEntry, 'id'> = {
      time: new Date().toISOString(),
      appId: this.options.appId,
      function: spec.functionName,
      via: 'trigger',
      user: 'system',
      runAs: outcome.runAs,
      status: outcome.ok ? 200 : outcome.error.status,
      durationMs: Math.round(outcome.durationMs * 10) / 10,
      logs: outcome.logs,
    };
    const bytes = request.args.length ? setLoggedArguments(entry, request.args) : 0;
    if (outcome.error)
      entry.error = outcome.error.stack
        ? { code: outcome.error.code, message: outcome.error.message, stack: outcome.error.stack }
        : { code: outcome.error.code, message: outcome.error.message };
    entry.trigger = spec.name;
    const logged = this.options.log.add(entry, bytes);
    try {
      this.options.onRun?.(logged);
    } catch {
      // The log's own output failed: the run stands.
    }
  }

  private notice(name: string, message: string): void {
    try {
      this.options.onNotice?.(name, message);
    } catch {
      // as above
    }
  }

  private save(name: string, state: TriggerState): void {
    try {
      this.options.state.save(this.options.appId, name, state);
    } catch (error) {
      this.notice(name, `its state could not be written (${(error as Error).message}); a restart may run the last tick or event again`);
    }
  }

  private startScheduled(spec: TriggerSpec): Omit<Running, 'key'> {
    const cron: Cron = parseCron(spec.schedule!);
    const name = spec.name;
    const now = Date.now();
    const state = this.options.state.load(this.options.appId)[name];
    const queue: number[] = [];
    let last = state?.tick;
    if (last !== undefined && !spec.skipCatchup) {
      let skipped = 0;
      for (let t = nextTick(cron, last); t !== undefined && t <= now; t = nextTick(cron, t)) {
        if (queue.length < MAX_CATCHUP_TICKS) queue.push(t);
        else skipped++;
        if (skipped > 100_000) break;
      }
      if (skipped)
        this.notice(name, `${skipped} more missed tick${skipped === 1 ? '' : 's'} skipped (${MAX_CATCHUP_TICKS} are caught up at most)`);
    } else {
      // From now on: the ticks after this minute are this trigger's to fire, across restarts.
      last = Math.floor(now / MINUTE) * MINUTE;
      this.save(name, { tick: last });
    }
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let busy: Promise<void> | undefined;
    const pump = (): void => {
      if (stopped || busy || !queue.length) return;
      const tick = queue[0]!;
      busy = (async () => {
        for (let attempt = 1; ; attempt++) {
          const outcome = await this.run(spec, [], false);
          if (!unfinished(outcome) || attempt >= ATTEMPTS) break;
          if (stopped) return;
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
        queue.shift();
        last = tick;
        this.save(name, { tick });
      })().finally(() => {
        busy = undefined;
        pump();
      });
    };
    const arm = (after: number): void => {
      const at = nextTick(cron, after);
      if (at === undefined || stopped) return;
      const wait = (): void => {
        const delay = at - Date.now();
        if (delay > 0) {
          timer = setTimeout(wait, Math.min(delay, MAX_DELAY));
          timer.unref?.();
          return;
        }
        if (cronMatches(cron, new Date(at))) queue.push(at);
        pump();
        arm(at);
      };
      wait();
    };
    pump();
    arm(Math.max(now, queue.at(-1) ?? now));
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
        queue.length = 0;
      },
      idle: async () => {
        await busy;
      },
    };
  }

  private startDatabase(spec: TriggerSpec): Omit<Running, 'key'> | undefined {
    const name = spec.name;
    const watch = this.options.runtime.watch?.bind(this.options.runtime);
    if (!watch) {
      this.notice(name, 'this runtime has no change streams; the trigger does not fire');
      return undefined;
    }
    const key = streamKey(spec);
    const state = this.options.state.load(this.options.appId)[name];
    let token = !spec.skipCatchup && state?.stream === key ? state.token : undefined;
    const unordered = spec.database!.unordered;
    /** Events in the order they came, until done: the token moves past an event once all before it are done. */
    const order: { token: { _data: string }; done: boolean }[] = [];
    const inFlight = new Set<Promise<unknown>>();
    let deferred: (() => void) | undefined;
    let stopped = false;
    let close: (() => void) | undefined;
    const handlers: WatchHandlers = {
      resumeToken: () => token,
      event: (data, ejson, next) => {
        if (stopped) return;
        const item = { token: { _data: data }, done: false };
        order.push(item);
        let event: unknown;
        try {
          event = JSON.parse(ejson);
        } catch {
          event = {};
        }
        const run = this.run(spec, [event], true).then((outcome) => {
          // The runner died before the function ran: the new one sends the event again.
          if (unfinished(outcome)) {
            order.splice(order.indexOf(item), 1);
            return;
          }
          item.done = true;
          let moved = false;
          while (order[0]?.done) {
            token = order.shift()!.token;
            moved = true;
          }
          if (moved) this.save(name, { stream: key, token: token! });
        });
        inFlight.add(run);
        void run.finally(() => {
          inFlight.delete(run);
          if (!unordered) next();
          else if (deferred) {
            const d = deferred;
            deferred = undefined;
            d();
          }
        });
        if (unordered) {
          if (inFlight.size < MAX_UNORDERED) next();
          else deferred = next;
        }
      },
      error: (message, lost) => {
        if (stopped) return;
        if (lost && spec.database!.tolerateResumeErrors) {
          this.notice(name, `${message}; tolerate_resume_errors: it goes on from the next new event`);
          token = undefined;
          this.save(name, { stream: key });
          close = watch(spec.database!.service, watchSpecOf(spec), handlers);
          return;
        }
        this.notice(name, `stopped: ${message}; it starts again when its config changes or the app is deployed again`);
      },
    };
    close = watch(spec.database!.service, watchSpecOf(spec), handlers);
    return {
      stop: () => {
        stopped = true;
        close?.();
      },
      idle: async () => {
        await Promise.all([...inFlight]);
      },
    };
  }
}
