import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../../src/app/auth-config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function appWithSecrets(secrets: unknown): string {
  const root = mkdtempSync(join(tmpdir(), 'fn-auth-config-'));
  dirs.push(root);
  mkdirSync(join(root, '.fn'));
  writeFileSync(join(root, '.fn', 'secrets.json'), JSON.stringify(secrets));
  return root;
}

describe('loadAuthConfig secrets', () => {
  it('reads .fn/secrets.json as fn secrets set writes it', () => {
    const root = appWithSecrets({ secrets: { jwtKey: { value: 'k1', updatedAt: '2026-01-01T00:00:00.000Z' }, bad: { nope: 1 } } });
    expect(loadAuthConfig(root).secrets).toEqual({ jwtKey: 'k1' });
  });

  it('reads the older flat form too', () => {
    expect(loadAuthConfig(appWithSecrets({ jwtKey: 'k2' })).secrets).toEqual({ jwtKey: 'k2' });
  });
});
