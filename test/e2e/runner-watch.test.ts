// The change streams of database triggers through a real runner process (the built dist/): events
// come one at a time, each after the last one's ack, as canonical EJSON; a runner that dies is
// replaced and its streams open again from the token the trigger had, so no event is lost.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTemps, repoRoot, tempDir } from './helpers.js';

afterAll(() => cleanupTemps());

const dist = (rel: string) => import(pathToFileURL(join(repoRoot, 'dist', rel)).href);

interface Change {
  token: string;
  event: { operationType: string; fullDocument: { n: number }; documentKey: { _id: { $oid: string } } };
  next: () => void;
}

describe('RunnerClient.watch', () => {
  it('[slow] delivers events with acks and opens the stream again in a new runner', async () => {
    const root = tempDir('fn-runner-watch-');
    const write = (rel: string, text: string) => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text);
    };
    write('fn.config.json', JSON.stringify({ appId: 'w' }));
    write('functions/config.json', JSON.stringify([{ name: 'add', run_as_system: true }]));
    write(
      'functions/add.js',
      `exports = async function ({ n }) {\n  await context.services.get('mongodb-atlas').db('shop').collection('orders').insertOne({ n });\n  return n;\n};\n`,
    );
    write('data_sources/mongodb-atlas/config.json', JSON.stringify({ name: 'mongodb-atlas', type: 'mongodb-atlas' }));
    const [{ RunnerClient }, { loadProjectAt }, { bundleProject }, { loadDataSources }, { systemUser }] = await Promise.all([
      dist('runtime/runner-client.js'),
      dist('project/load-project.js'),
      dist('runtime/bundle.js'),
      dist('app/data-sources.js'),
      dist('runtime/types.js'),
    ]);
    const runtime = new RunnerClient({ limits: { workers: 1 }, dataRoot: root });
    try {
      runtime.setData({ sources: loadDataSources(root).sources, env: {}, embedded: true });
      runtime.setApp(bundleProject(loadProjectAt(root, join(root, 'fn.config.json')), '1'));
      const add = async (n: number) => {
        const outcome = await runtime.call({
          name: 'add',
          args: [{ n }],
          caller: systemUser(),
          via: 'admin',
          request: { remoteIPAddress: '', rawHeaders: [], httpMethod: '', rawQueryString: '' },
        });
        expect(outcome.ok, JSON.stringify(outcome.error)).toBe(true);
      };
      const changes: Change[] = [];
      let waiting: (() => void) | undefined;
      const handled: { token?: { _data: string } } = {};
      const opened: ({ _data: string } | undefined)[] = [];
      runtime.watch(
        'mongodb-atlas',
        { db: 'shop', coll: 'orders', pipeline: [{ $match: { operationType: 'insert' } }] },
        {
          resumeToken: () => {
            opened.push(handled.token);
            return handled.token;
          },
          event: (t: string, ejson: string, next: () => void) => {
            changes.push({ token: t, event: JSON.parse(ejson), next });
            waiting?.();
          },
          error: (message: string) => {
            throw new Error(message);
          },
        },
      );
      const nextChange = async (count: number) => {
        const deadline = Date.now() + 10_000;
        while (changes.length < count && Date.now() < deadline) await new Promise<void>((r) => (waiting = r) && setTimeout(r, 100));
        expect(changes).toHaveLength(count);
        return changes[count - 1]!;
      };
      await add(1);
      await add(2);
      const first = await nextChange(1);
      expect(first.event).toMatchObject({ operationType: 'insert', fullDocument: { n: { $numberInt: '1' } } });
      expect(first.event.documentKey._id.$oid).toMatch(/^[0-9a-f]{24}$/);
      // The second waits for the first's ack.
      await new Promise((r) => setTimeout(r, 300));
      expect(changes).toHaveLength(1);
      handled.token = { _data: first.token };
      first.next();
      const second = await nextChange(2);
      expect(second.event.fullDocument.n).toEqual({ $numberInt: '2' });

      // The runner dies before the second is handled: a new one sends it again, from the first's token.
      const child = (runtime as unknown as { runner: { child: { kill(signal: string): void } } }).runner.child;
      child.kill('SIGKILL');
      const again = await nextChange(3);
      expect(again.token).toBe(second.token);
      expect(again.event.fullDocument.n).toEqual({ $numberInt: '2' });
      expect(opened.at(-1)).toEqual({ _data: first.token });
    } finally {
      await runtime.close();
    }
  }, 30_000);
});
