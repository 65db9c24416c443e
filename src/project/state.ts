// .fn/state.json: for each remote the folder was last pulled from or pushed to, the version and
// the function states it had then. Push and pull compare against it to see who changed what.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppState } from '../manifest/hash.js';
import { writeFileAtomic } from '../manifest/write.js';

export interface RemoteBase {
  url: string;
  appId: string;
  version: number;
  functions: AppState;
  at: string;
}

interface StateFile {
  remotes: Record<string, RemoteBase>;
}

const keyOf = (url: string, appId: string) => `${url} ${appId}`;
const pathOf = (root: string) => join(root, '.fn', 'state.json');

function read(root: string): StateFile {
  try {
    const v = JSON.parse(readFileSync(pathOf(root), 'utf8')) as StateFile;
    return typeof v.remotes === 'object' && v.remotes !== null ? v : { remotes: {} };
  } catch {
    return { remotes: {} };
  }
}

export function readBase(root: string, url: string, appId: string): RemoteBase | undefined {
  const base = read(root).remotes[keyOf(url, appId)];
  return base && typeof base.version === 'number' && typeof base.functions === 'object' ? base : undefined;
}

export function writeBase(root: string, base: Omit<RemoteBase, 'at'>): void {
  const state = read(root);
  state.remotes[keyOf(base.url, base.appId)] = { ...base, at: new Date().toISOString() };
  writeFileAtomic(pathOf(root), JSON.stringify(state, null, 2) + '\n');
}
