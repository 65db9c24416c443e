// mongodb, mingo and bson load on first use: no built module imports them statically, so --help,
// --version and every command that never touches data load none of them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = new URL('../../../dist/', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(join(dist, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dir, f));
}

describe('data libraries are lazy', () => {
  it('no built module imports mongodb, mingo or bson statically', () => {
    const all = ['cli.js', ...files('commands'), ...files('data'), ...files('app'), ...files('runtime'), ...files('project')];
    expect(all.length).toBeGreaterThan(20);
    for (const file of all) {
      const text = readFileSync(join(dist, file), 'utf8');
      expect(text, file).not.toMatch(/^\s*import[^;]*['"](mongodb|mingo|bson)(\/[^'"]*)?['"]/m);
    }
  });
});
