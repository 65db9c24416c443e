// The backends the semantic tests run on: the embedded engine always, a real MongoDB when
// FN_TEST_MONGODB_URI is set (each run in databases of its own, dropped afterwards).
import { randomBytes } from 'node:crypto';
import { DriverBackend } from '../../../src/data/driver.js';
import { EmbeddedEngine } from '../../../src/data/embedded.js';
import type { DataBackend } from '../../../src/data/types.js';

export interface EngineCase {
  name: string;
  /** Why it is skipped, when it is. */
  skip: string | undefined;
  open(): DataBackend;
  /** A database name of this run's own. */
  db(base: string): string;
}

const run = randomBytes(3).toString('hex');
const uri = process.env.FN_TEST_MONGODB_URI;

export const ENGINES: EngineCase[] = [
  { name: 'embedded', skip: undefined, open: () => new EmbeddedEngine(undefined), db: (base) => base },
  {
    name: 'mongodb',
    skip: uri
      ? undefined
      : 'FN_TEST_MONGODB_URI is not set (no MongoDB server can be installed here); set it to a mongodb:// URI to run these against a real server',
    open: () => new DriverBackend(uri!, 3000),
    db: (base) => `fntest_${run}_${base}`,
  },
];

/** Drops what a driver run created. */
export async function dropDatabases(backend: DataBackend, names: string[]): Promise<void> {
  if (!(backend instanceof DriverBackend)) return;
  const client = (backend as unknown as { mongo: { db(n: string): { dropDatabase(): Promise<unknown> } } }).mongo;
  for (const n of names) await client.db(n).dropDatabase();
}
