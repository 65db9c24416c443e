// .fn/dev.json: where the fn dev of this app listens, with its app id and service key, so that
// invoke and the other remote commands reach it with no flags. Written 0600 when fn dev starts,
// removed when it stops; a record whose process is gone (a crash, a kill -9) is ignored.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../manifest/write.js';

export interface DevServerRecord {
  /** Base URL, without a trailing slash. */
  url: string;
  appId: string;
  serviceKey: string;
  /** The fn dev process. */
  pid: number;
}

export const devServerPath = (root: string): string => join(root, '.fn', 'dev.json');

export function writeDevServer(root: string, record: DevServerRecord): void {
  writeFileAtomic(devServerPath(root), JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
}

/** Removes the record if it is still the one of `pid` (a second fn dev may have replaced it). */
export function removeDevServer(root: string, pid: number): void {
  if (readRecord(root)?.pid !== pid) return;
  rmSync(devServerPath(root), { force: true });
}

/** The fn dev running for the app at `root`, or undefined (no record, a bad one, or its process is gone). */
export function readDevServer(root: string): DevServerRecord | undefined {
  const record = readRecord(root);
  return record && isAlive(record.pid) ? record : undefined;
}

function readRecord(root: string): DevServerRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(devServerPath(root), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { url, appId, serviceKey, pid } = value as Record<string, unknown>;
  if (
    typeof url !== 'string' ||
    typeof appId !== 'string' ||
    typeof serviceKey !== 'string' ||
    serviceKey === '' ||
    typeof pid !== 'number' ||
    !Number.isInteger(pid) ||
    pid <= 0
  )
    return undefined;
  return { url: url.replace(/\/+$/, ''), appId, serviceKey, pid };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
