import { isAbsolute, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FILE, findAppRoot, noRootHint } from '../../../src/project/find-root.js';
import { tempTree } from '../manifest/tmp-tree.js';

describe('findAppRoot', () => {
  it('finds functions/config.json walking up from a nested folder', () => {
    const root = tempTree({ 'functions/config.json': '[]', 'src/deep/er/': '' });
    expect(findAppRoot(join(root, 'src', 'deep', 'er'))).toEqual({ root, configPath: undefined });
    expect(findAppRoot(join(root, 'functions'))).toEqual({ root, configPath: undefined });
    expect(findAppRoot(root)).toEqual({ root, configPath: undefined });
  });

  it('starts from the folder of a file path', () => {
    const root = tempTree({ 'functions/config.json': '[]', 'functions/reports/monthly.js': '' });
    expect(findAppRoot(join(root, 'functions', 'reports', 'monthly.js'))).toEqual({ root, configPath: undefined });
    expect(findAppRoot(join(root, 'functions', 'config.json'))).toEqual({ root, configPath: undefined });
  });

  it('finds fn.config.json, which wins over functions/config.json in the same folder', () => {
    const root = tempTree({ 'fn.config.json': '{}', 'functions/config.json': '[]', 'a/': '' });
    expect(CONFIG_FILE).toBe('fn.config.json');
    expect(findAppRoot(join(root, 'a'))).toEqual({ root, configPath: join(root, 'fn.config.json') });
  });

  it('finds a fn.config.json without any functions folder', () => {
    const root = tempTree({ 'fn.config.json': '{}', 'x/y/': '' });
    expect(findAppRoot(join(root, 'x', 'y'))).toEqual({ root, configPath: join(root, 'fn.config.json') });
  });

  it('stops at the nearest app: a nested app wins over an outer fn.config.json', () => {
    const outer = tempTree({ 'fn.config.json': '{}', 'inner/functions/config.json': '[]', 'inner/lib/': '' });
    expect(findAppRoot(join(outer, 'inner', 'lib'))).toEqual({ root: join(outer, 'inner'), configPath: undefined });
  });

  it('does not take a folder named fn.config.json or functions/config.json for a file', () => {
    const root = tempTree({ 'functions/config.json': '[]', 'app/fn.config.json/': '', 'app/functions/config.json/': '' });
    expect(findAppRoot(join(root, 'app'))).toEqual({ root, configPath: undefined });
  });

  it('returns undefined when there is no app up to the file-system root', () => {
    const dir = tempTree({ 'functions/a.js': '', 'x/': '' });
    expect(findAppRoot(join(dir, 'x'))).toBeUndefined();
  });

  it('resolves a relative start against the current directory', () => {
    const root = tempTree({ 'functions/config.json': '[]', 'sub/': '' });
    const rel = relative(process.cwd(), join(root, 'sub'));
    expect(isAbsolute(rel)).toBe(false);
    expect(findAppRoot(rel)).toEqual({ root, configPath: undefined });
  });
});

describe('noRootHint', () => {
  it('recognises the older per-function layout', () => {
    const root = tempTree({ 'functions/sum/config.json': '{"name":"sum"}', 'functions/sum/source.js': 'exports = function () {};' });
    expect(noRootHint(join(root, 'functions', 'sum'))).toBe(
      `${join(root, 'functions')} uses the older per-function layout (functions/<name>/config.json + source.js); export the app again with a current App Services CLI to get functions/config.json`,
    );
  });

  it('needs both config.json and source.js for the legacy hint', () => {
    const root = tempTree({ 'functions/sum/config.json': '{}' });
    expect(noRootHint(root)).toBe(`${join(root, 'functions')} has no config.json: create it with [] or run fn init ${root}`);
  });

  it('says what to do when a functions folder has no manifest', () => {
    const root = tempTree({ 'functions/a.js': '', 'deep/': '' });
    expect(noRootHint(join(root, 'deep'))).toBe(`${join(root, 'functions')} has no config.json: create it with [] or run fn init ${root}`);
  });

  it('suggests fn init when nothing looks like an app', () => {
    const dir = tempTree({ 'x/': '' });
    expect(noRootHint(join(dir, 'x'))).toBe('run fn init to create an app, or pass --cwd <dir> pointing into one');
  });
});
