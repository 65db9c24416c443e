// App-root discovery: walk up from a folder to the first one holding fn.config.json or
// functions/config.json. Real Atlas exports need no fn.config.json.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FnError } from '../errors.js';

export const CONFIG_FILE = 'fn.config.json';

export interface AppRoot {
  root: string;
  /** Absolute path of fn.config.json, when there is one. */
  configPath: string | undefined;
}

export function findAppRoot(start: string): AppRoot | undefined {
  let dir = resolve(start);
  if (isFile(dir)) dir = dirname(dir);
  for (;;) {
    const configPath = join(dir, CONFIG_FILE);
    if (isFile(configPath)) return { root: dir, configPath };
    if (isFile(join(dir, 'functions', 'config.json'))) return { root: dir, configPath: undefined };
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Why no app root was found, as a hint: an older per-function layout, or nothing like an app. */
export function noRootHint(start: string): string {
  let dir = resolve(start);
  if (isFile(dir)) dir = dirname(dir);
  for (;;) {
    const functions = join(dir, 'functions');
    if (isDir(functions)) {
      const legacy = safeReaddir(functions).some(
        (n) => isFile(join(functions, n, 'config.json')) && isFile(join(functions, n, 'source.js')),
      );
      if (legacy)
        return `${functions} uses the older per-function layout (functions/<name>/config.json + source.js); export the app again with a current App Services CLI to get functions/config.json`;
      return `${functions} has no config.json: create it with [] or run fn init ${dir}`;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return 'run fn init to create an app, or pass --cwd <dir> pointing into one';
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The app root around `start`, or the one "no app found" error every command gives. */
export function requireAppRoot(start: string): AppRoot {
  const found = findAppRoot(start);
  if (!found)
    throw new FnError('NO_APP_ROOT', `no app found at ${start} or above it (looked for ${CONFIG_FILE} or functions/config.json)`, {
      hint: noRootHint(start),
    });
  return found;
}
