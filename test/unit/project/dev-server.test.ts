// src/project/dev-server.ts: the .fn/dev.json record of a running fn dev. Written 0600, read back
// only while its process lives, removed only by the process that wrote it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { devServerPath, readDevServer, removeDevServer, writeDevServer } from '../../../src/project/dev-server.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'fn-devrec-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const record = { url: 'http://127.0.0.1:4000', appId: 'shop', serviceKey: 'k-123', pid: process.pid };
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid;

describe('the fn dev record', () => {
  it('is written 0600 under .fn/ and read back while its process lives', () => {
    writeDevServer(root, record);
    expect(statSync(devServerPath(root)).mode & 0o777).toBe(0o600);
    expect(readDevServer(root)).toEqual(record);
  });

  it('stays 0600 when written over a looser file', () => {
    mkdirSync(join(root, '.fn'));
    writeFileSync(devServerPath(root), '{}', { mode: 0o644 });
    writeDevServer(root, record);
    expect(statSync(devServerPath(root)).mode & 0o777).toBe(0o600);
  });

  it('is ignored when its process is gone', () => {
    writeDevServer(root, { ...record, pid: deadPid() });
    expect(readDevServer(root)).toBeUndefined();
  });

  it.each([
    ['not json', '{'],
    ['no key', JSON.stringify({ ...record, serviceKey: '' })],
    ['no pid', JSON.stringify({ ...record, pid: undefined })],
    ['an array', '[]'],
  ])('is ignored when it is %s', (_what, text) => {
    mkdirSync(join(root, '.fn'));
    writeFileSync(devServerPath(root), text);
    expect(readDevServer(root)).toBeUndefined();
  });

  it('is removed only by the process that wrote it', () => {
    writeDevServer(root, record);
    removeDevServer(root, record.pid + 1);
    expect(JSON.parse(readFileSync(devServerPath(root), 'utf8')).pid).toBe(record.pid);
    removeDevServer(root, record.pid);
    expect(readDevServer(root)).toBeUndefined();
    removeDevServer(root, record.pid);
  });
});
