// writeFileAtomic flushes the temp file before it is renamed into place, and the folder after the
// rename when asked (the store's pointer); the order is what makes a power loss safe.
import type * as Fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, type Mode, type OpenMode, type PathLike } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const calls: string[] = [];
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof Fs>();
  const wrapped = {
    ...fs,
    openSync: (path: PathLike, flags: OpenMode = 'r', mode?: Mode | null) => {
      const fd = fs.openSync(path, flags, mode);
      calls.push(`open ${String(flags)} ${String(path).endsWith('.tmp') ? 'temp' : 'dir'} ${fd}`);
      return fd;
    },
    fsyncSync: (fd: number) => {
      calls.push(`fsync ${fd}`);
      fs.fsyncSync(fd);
    },
    renameSync: (from: PathLike, to: PathLike) => {
      calls.push('rename');
      fs.renameSync(from, to);
    },
  };
  return { ...wrapped, default: wrapped };
});

const { writeFileAtomic } = await import('../../../src/manifest/write.js');

const dir = mkdtempSync(join(tmpdir(), 'fn-write-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shape = () => calls.map((c) => c.replace(/ \d+$/, ''));

describe('writeFileAtomic and fsync', () => {
  it('fsyncs the temp file before the rename', () => {
    calls.length = 0;
    writeFileAtomic(join(dir, 'a.txt'), 'hello');
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello');
    expect(shape()).toEqual(['open wx temp', 'fsync', 'rename']);
    // The fd flushed is the temp file's.
    expect(calls[1]!.split(' ')[1]).toBe(calls[0]!.split(' ')[3]);
  });

  it('with syncDir, also fsyncs the folder after the rename', () => {
    calls.length = 0;
    writeFileAtomic(join(dir, 'CURRENT'), '2\n', { syncDir: true });
    expect(shape()).toEqual(['open wx temp', 'fsync', 'rename', 'open r dir', 'fsync']);
  });
});
