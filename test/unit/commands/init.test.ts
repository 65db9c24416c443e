// fn init's pure parts: the $schema it writes for each way fn can be installed, and the merge of
// its rules into a .gitignore that is there already.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mergeIgnore, schemaRef } from '../../../src/commands/init.js';

const schemaIn = (pkgRoot: string) => join(pkgRoot, 'schemas', 'fn-config.schema.json');

describe('schemaRef', () => {
  it('a dev dependency of the app: ./node_modules/…, which holds on every clone', () => {
    expect(schemaRef('/p', schemaIn('/p/node_modules/@fn-cli/fn'))).toBe('./node_modules/@fn-cli/fn/schemas/fn-config.schema.json');
  });

  it('a dev dependency of a folder above the app: ../node_modules/…', () => {
    expect(schemaRef('/p/backend/api', schemaIn('/p/node_modules/@fn-cli/fn'))).toBe(
      '../../node_modules/@fn-cli/fn/schemas/fn-config.schema.json',
    );
  });

  it.each([
    ['a global install', '/usr/lib/node_modules/@fn-cli/fn'],
    ['npx', '/home/u/.npm/_npx/1a2b/node_modules/@fn-cli/fn'],
    ['a clone of fn', '/home/u/src/fn'],
    ["another project's node_modules", '/p/other/node_modules/@fn-cli/fn'],
  ])('%s: the file URL of the schema', (_, pkgRoot) => {
    const ref = schemaRef('/p/app', schemaIn(pkgRoot));
    expect(ref.startsWith('file:///')).toBe(true);
    expect(fileURLToPath(ref)).toBe(schemaIn(pkgRoot));
  });
});

describe('mergeIgnore', () => {
  const template = '# fn state\n.fn/\nnode_modules/\n';

  it('appends the missing rules with their comment, keeping every byte there', () => {
    expect(mergeIgnore('dist', template)).toBe('dist\n\n# fn state\n.fn/\nnode_modules/\n');
    expect(mergeIgnore('node_modules\n', template)).toBe('node_modules\n\n# fn state\n.fn/\n');
    expect(mergeIgnore('a\r\nb\r\n', template)).toBe('a\r\nb\r\n\r\n# fn state\r\n.fn/\r\nnode_modules/\r\n');
  });

  it('null when every rule is there, however it is written', () => {
    expect(mergeIgnore('/node_modules/\n.fn\n', template)).toBeNull();
  });
});
