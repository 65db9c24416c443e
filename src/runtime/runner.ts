// The runner: one app's functions in a process of their own (see runner-client.ts). It holds the
// app's RuntimeHost (its worker threads) and its DataHub (its data thread), and nothing of the
// server: it is started with an empty environment and Node's permission model, and gets its app's
// bundle, values and connection strings over the IPC channel. Calls come in batches and their
// answers go back in batches (runner-wire.ts).
import { DataHub } from '../data/hub.js';
import { RuntimeHost } from './host.js';
import { capResult, type FromRunner, type ToRunner } from './runner-wire.js';
import type { CallOutcome } from './types.js';
import { decodeCall, pushDone, type DoneBatch } from './wire.js';

/** How often the runner measures its resident memory. */
const RSS_CHECK_MS = 250;

let host: RuntimeHost | undefined;
let hub: DataHub | undefined;
let outbox: DoneBatch = [];
let closing = false;

const send = (message: FromRunner): void => {
  if (process.connected) process.send!(message);
};

const flush = (): void => {
  const done = outbox;
  outbox = [];
  if (done.length) send({ t: 'done', done });
};

const answer = (id: number, outcome: CallOutcome): void => {
  if (!outbox.length) setImmediate(flush);
  pushDone(outbox, id, capResult(outcome), false);
};

async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  await host?.close();
  flush();
  // Writes what the embedded engine holds.
  await hub?.close();
  send({ t: 'closed' });
  process.exit(0);
}

process.on('message', (m: ToRunner) => {
  switch (m.t) {
    case 'calls':
      for (const message of m.calls) {
        const { id, request } = decodeCall(message);
        if (!host) answer(id, { ok: false, error: { code: 'SERVER_CLOSING', message: 'the runner has no app yet', status: 503 }, logs: [], durationMs: 0, runAs: { userId: request.caller.id } });
        else host.submit(request, (outcome) => answer(id, outcome));
      }
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
    case 'app':
      host?.setApp(m.bundle);
      return;
    case 'data': {
      const { root, sources, uris, embedded, memory } = m.data;
      try {
        if (hub) hub.setSources(sources);
        else {
          hub = new DataHub({ root, sources, env: uris, embedded, ...(memory ? { memory } : {}) });
          host?.setData(hub);
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
    case 'close':
      void close();
      return;
  }
});

// The server is gone: what the embedded engine holds is written, then the runner ends.
process.on('disconnect', () => void close());

send({ t: 'ready' });
