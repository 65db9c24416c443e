// The runner: one app's functions in a process of their own (see runner-client.ts). It holds the
// app's RuntimeHost (its worker threads) and its DataHub (its data thread), and nothing of the
// server: it is started with an empty environment and Node's permission model, and gets its app's
// bundle, values and connection strings from the server. Calls come in batches and their answers
// go back in batches (runner-wire.ts): over a plain pipe, or over IPC for what is not plain text.
import { Socket } from 'node:net';
import { DataError } from '../data/errors.js';
import { DataHub } from '../data/hub.js';
import { RulesCollection } from '../data/rules.js';
import type { ChangeEvent, ChangeStream, Document } from '../data/types.js';
import { RuntimeHost } from './host.js';
import { capResult, frame, FrameReader, PIPE_FD, plainAnswer, type FromRunner, type ToRunner, type WatchSpec } from './runner-wire.js';
import { requestInfoOf, systemUser, type CallOutcome } from './types.js';
import { decodeCall, pushDone, type CallMessage, type DoneBatch, type DoneObject } from './wire.js';

/** How often the runner measures its resident memory. */
const RSS_CHECK_MS = 250;

let host: RuntimeHost | undefined;
let hub: DataHub | undefined;
let outbox: DoneBatch = [];
let closing = false;
/** Calls that came before the app (over IPC, which may overtake the pipe). */
let early: CallMessage[] = [];

const pipe = new Socket({ fd: PIPE_FD, readable: true, writable: true });
pipe.setEncoding('utf8');
pipe.setNoDelay?.(true);
// The server is gone: the IPC channel's disconnect ends the runner.
pipe.on('error', () => undefined);

const send = (message: FromRunner): void => {
  if (process.connected) process.send!(message);
};

/** The answers of this turn: plain ones in one write to the pipe, the others in one IPC message. */
const flush = (): void => {
  const done = outbox;
  outbox = [];
  let text = '';
  const others: DoneObject[] = [];
  for (let i = 0; i < done.length;) {
    const head = done[i]!;
    if (typeof head === 'object' && head !== null) {
      others.push(head);
      i += 1;
    } else {
      text += frame(plainAnswer(head as number, done[i + 1] as string, done[i + 2] as number, done[i + 3] as string | null));
      i += 4;
    }
  }
  if (text) pipe.write(text);
  if (others.length) send({ t: 'done', done: others });
};

const answer = (id: number, outcome: CallOutcome): void => {
  if (!outbox.length) setImmediate(flush);
  pushDone(outbox, id, capResult(outcome), false);
};

function run(message: CallMessage): void {
  if (!host?.app) {
    early.push(message);
    return;
  }
  const { id, request } = decodeCall(message);
  host.submit(request, (outcome) => answer(id, outcome));
}

type ChangeStreamLike = Pick<ChangeStream, 'next' | 'close'>;
type WatchMessage = Extract<ToRunner, { t: 'watch' }>;

/** The change streams of database triggers, by the server's id; each sends one event, then waits for its ack. */
const watches = new Map<number, { stream?: ChangeStreamLike; ack?: () => void; closed: boolean }>();
/** Watches that came before the data sources (over IPC, which may overtake the pipe). */
let earlyWatches: WatchMessage[] = [];

/**
 * A client's watch: the collection's stream read through the data layer's rules as the user (the
 * same RulesCollection function code gets), its %function expressions run as system like those of
 * function code; the client's pipeline runs after the rules.
 */
async function clientStream(dataHub: DataHub, source: string, spec: WatchSpec): Promise<ChangeStreamLike> {
  const client = spec.client!;
  const rules = dataHub.sources.find((s) => s.name === source)?.rules;
  if (!rules || spec.db === undefined || spec.coll === undefined) throw new DataError(`no data source named "${source}"`);
  const { EJSON } = await import('bson');
  const pipeline = EJSON.parse(client.pipeline, { relaxed: false }) as Document[];
  const bundle = host?.app;
  const inner = new RulesCollection(dataHub.collection(source, spec.db, spec.coll), spec.db, spec.coll, rules, {
    user: client.user,
    request: requestInfoOf(client.request),
    values: bundle?.values ?? {},
    ...(bundle ? { environment: bundle.environment } : {}),
    callFunction: (name, args) =>
      new Promise((resolve, reject) => {
        if (!host) return reject(new Error(`function "${name}" not found`));
        const request = { name, args: EJSON.serialize(args, { relaxed: false }) as unknown[], caller: systemUser(), via: 'admin' as const };
        host.submit({ ...request, request: client.request, ejson: true }, (outcome) => {
          if (!outcome.ok) return reject(new Error(outcome.error.message));
          resolve(outcome.result.kind === 'json' ? EJSON.parse(outcome.result.json, { relaxed: false }) : undefined);
        });
      }),
  }).watch(pipeline, { fullDocument: 'updateLookup', ...(spec.resumeAfter ? { resumeAfter: spec.resumeAfter } : {}) });
  let closed = false;
  return {
    // Each ask of the inner stream waits up to a second for events: no busy loop.
    next: async (): Promise<ChangeEvent> => {
      for (;;) {
        if (closed) throw new DataError('the change stream is closed');
        const e = await inner.tryNext();
        if (e) return e;
      }
    },
    close: async () => {
      closed = true;
      await inner.close();
    },
  };
}

async function watch(m: WatchMessage): Promise<void> {
  if (!hub) return void earlyWatches.push(m);
  const w: { stream?: ChangeStreamLike; ack?: () => void; closed: boolean } = { closed: false };
  watches.set(m.id, w);
  try {
    w.stream = m.options.client ? await clientStream(hub, m.source, m.options) : hub.watch(m.source, m.options);
    if (w.closed) return;
    const { EJSON } = await import('bson');
    while (!w.closed) {
      const event = await w.stream.next();
      if (w.closed) break;
      await new Promise<void>((resolve) => {
        w.ack = resolve;
        send({ t: 'change', id: m.id, token: String(event._id._data), event: EJSON.stringify(event, { relaxed: false }) });
      });
    }
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    if (!w.closed)
      send({
        t: 'watch-error',
        id: m.id,
        message,
        lost: /no longer in the change log|history lost|ChangeStreamHistoryLost/i.test(message),
      });
  } finally {
    watches.delete(m.id);
    await w.stream?.close().catch(() => undefined);
  }
}

function unwatch(id: number): void {
  const w = watches.get(id);
  earlyWatches = earlyWatches.filter((m) => m.id !== id);
  if (!w) return;
  w.closed = true;
  w.ack?.();
  void w.stream?.close().catch(() => undefined);
}

async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  for (const id of [...watches.keys()]) unwatch(id);
  await host?.close();
  flush();
  // Writes what the embedded engine holds.
  await hub?.close();
  send({ t: 'closed' });
  process.exit(0);
}

function handle(m: ToRunner): void {
  switch (m.t) {
    case 'calls':
      for (const message of m.calls) run(message);
      return;
    case 'init': {
      host = new RuntimeHost(m.limits);
      const limit = m.rssLimitMb * 1024 * 1024;
      setInterval(() => {
        const rss = process.memoryUsage.rss();
        if (rss <= limit) return;
        send({ t: 'memory', rssMb: Math.round(rss / 1024 / 1024) });
        process.exit(75);
      }, RSS_CHECK_MS).unref();
      return;
    }
    case 'app': {
      host?.setApp(m.bundle);
      const waiting = early;
      early = [];
      waiting.forEach(run);
      return;
    }
    case 'data': {
      const { root, sources, uris, embedded, memory } = m.data;
      try {
        if (hub) hub.setSources(sources);
        else {
          hub = new DataHub({ root, sources, env: uris, embedded, ...(memory ? { memory } : {}) });
          host?.setData(hub);
          const waiting = earlyWatches;
          earlyWatches = [];
          for (const w of waiting) void watch(w);
        }
      } catch {
        // The server checked the same options before sending them (DataPlan): context.services
        // then fails the calls that use the source.
      }
      return;
    }
    case 'ping':
      send({ t: 'pong' });
      return;
    case 'watch':
      void watch(m);
      return;
    case 'ack': {
      const w = watches.get(m.id);
      const ack = w?.ack;
      if (w) w.ack = undefined;
      ack?.();
      return;
    }
    case 'unwatch':
      unwatch(m.id);
      return;
    case 'close':
      void close();
      return;
  }
}

const reader = new FrameReader((text) => {
  if (text.charCodeAt(0) === 99 /* c */) run(text.slice(1));
  else handle(JSON.parse(text.slice(1)) as ToRunner);
});
pipe.on('data', (chunk: string) => reader.push(chunk));
process.on('message', handle);

// The server is gone: what the embedded engine holds is written, then the runner ends.
process.on('disconnect', () => void close());

send({ t: 'ready' });
