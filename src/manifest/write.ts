// Writes that never leave a half-written file: a temp file beside the target, flushed to disk,
// then renamed over it. After a crash the target holds the old text or the new one, never a mix.
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Temp files of writeFileAtomic: `<target>.<pid>.<8 hex>.tmp`. A crash can leave one behind. */
export const TEMP_FILE = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/**
 * `mode` sets the file's permissions (0o600 for secrets); without it an existing file keeps its own.
 * `syncDir` also flushes the folder after the rename, so that the new name itself survives a power
 * loss (where later writes rely on it: a pointer to what was written before).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { mode?: number; syncDir?: boolean } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let mode: number | undefined;
  try {
    mode = options.mode ?? statSync(path).mode & 0o777;
  } catch {
    mode = undefined;
  }
  try {
    // A secret's temp file is created with its mode, so it is never readable by others.
    const fd = openSync(temp, 'wx', options.mode ?? 0o666);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
      // The data reaches the disk before the name points at it.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (mode !== undefined) chmodSync(temp, mode);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was never created
    }
    throw error;
  }
  if (options.syncDir) syncDir(dirname(path));
}

/** Flushes a folder's entries (names made or renamed in it) to disk; a no-op where folders cannot be opened. */
export function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // some platforms and file systems refuse fsync on a folder
  } finally {
    closeSync(fd);
  }
}
