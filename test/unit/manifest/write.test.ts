import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/manifest/write.js';
import { tempDir } from './tmp-tree.js';

describe('writeFileAtomic', () => {
  it('writes a new file and leaves nothing else behind', () => {
    const dir = tempDir();
    const path = join(dir, 'config.json');
    writeFileAtomic(path, '[]\n');
    expect(readFileSync(path, 'utf8')).toBe('[]\n');
    expect(readdirSync(dir)).toEqual(['config.json']);
  });

  it('replaces an existing file, byte for byte (BOM, CRLF)', () => {
    const dir = tempDir();
    const path = join(dir, 'config.json');
    writeFileSync(path, 'old content that is longer than the new one');
    writeFileAtomic(path, '\uFEFF[\r\n]');
    expect(readFileSync(path)).toEqual(Buffer.from('\uFEFF[\r\n]', 'utf8'));
    expect(readdirSync(dir)).toEqual(['config.json']);
  });

  it('writes bytes given as a Uint8Array', () => {
    const dir = tempDir();
    const path = join(dir, 'bin');
    writeFileAtomic(path, new Uint8Array([0, 255, 10]));
    expect([...readFileSync(path)]).toEqual([0, 255, 10]);
  });

  it('keeps the mode of the file it replaces', () => {
    const dir = tempDir();
    const path = join(dir, 'config.json');
    writeFileSync(path, 'x');
    chmodSync(path, 0o600);
    writeFileAtomic(path, 'y');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    chmodSync(path, 0o754);
    writeFileAtomic(path, 'z');
    expect(statSync(path).mode & 0o777).toBe(0o754);
    expect(readFileSync(path, 'utf8')).toBe('z');
  });

  it('creates missing parent folders', () => {
    const dir = tempDir();
    const path = join(dir, 'a', 'b', 'config.json');
    writeFileAtomic(path, '[]');
    expect(readFileSync(path, 'utf8')).toBe('[]');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['config.json']);
  });

  it('throws and leaves no temp file when the target is a folder', () => {
    const dir = tempDir();
    const target = join(dir, 'config.json');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'kept');
    expect(() => writeFileAtomic(target, '[]')).toThrow();
    expect(readdirSync(dir)).toEqual(['config.json']);
    expect(statSync(target).isDirectory()).toBe(true);
    expect(readdirSync(target)).toEqual(['inside']);
  });

  it('throws and leaves no temp file when the parent is a file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'functions'), 'a file');
    expect(() => writeFileAtomic(join(dir, 'functions', 'config.json'), '[]')).toThrow();
    expect(readdirSync(dir)).toEqual(['functions']);
    expect(readFileSync(join(dir, 'functions'), 'utf8')).toBe('a file');
  });
});
