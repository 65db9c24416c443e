// Writes that never leave a half-written file: a temp file beside the target, then rename.
import { chmodSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/** `mode` sets the file's permissions (0o600 for secrets); without it an existing file keeps its own. */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { mode?: number } = {}): void {
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
    writeFileSync(temp, data, { flag: 'wx', ...(options.mode !== undefined ? { mode: options.mode } : {}) });
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
}
