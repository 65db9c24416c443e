import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSources } from '../../../src/manifest/sources.js';
import { tempDir, tempTree } from './tmp-tree.js';

describe('listSources', () => {
  it('lists every .js file recursively, named by path with /, sorted, skipping node_modules at any depth', () => {
    const dir = tempTree({
      'sum.js': '',
      'reports/monthly.js': '',
      'reports/yearly/summary.js': '',
      'Zeta.js': '',
      'node_modules/lodash/index.js': '',
      'reports/node_modules/x/y.js': '',
      'a/b/node_modules/deep.js': '',
      'a/b/c.js': '',
      'config.json': '[]',
      'README.md': '',
      'types.ts': '',
      'module.mjs': '',
      'common.cjs': '',
      'map.js.map': '',
      'notes.JS': '',
      '.js': '',
      'empty/.js': '',
      'folder.js/inner.js': '',
      'empty-folder/': '',
    });
    const sources = listSources(dir);
    expect([...sources.keys()]).toEqual(['Zeta', 'a/b/c', 'folder.js/inner', 'reports/monthly', 'reports/yearly/summary', 'sum']);
    expect(sources.get('reports/yearly/summary')).toEqual({
      name: 'reports/yearly/summary',
      path: join(dir, 'reports', 'yearly', 'summary.js'),
      relPath: 'reports/yearly/summary.js',
    });
    expect(sources.get('sum')).toEqual({ name: 'sum', path: join(dir, 'sum.js'), relPath: 'sum.js' });
  });

  it('sorts by code unit, upper case first, and a file before a deeper path that shares its prefix', () => {
    const dir = tempTree({
      'b.js': '',
      'B.js': '',
      'a/z.js': '',
      'a.js': '',
      'a-b.js': '',
      'endpoint/hello.js': '',
      'endpoint/hello/latest.js': '',
    });
    expect([...listSources(dir).keys()]).toEqual(['B', 'a', 'a-b', 'a/z', 'b', 'endpoint/hello', 'endpoint/hello/latest']);
  });

  it('returns an empty map for a missing or empty folder', () => {
    const dir = tempDir();
    expect(listSources(join(dir, 'nope')).size).toBe(0);
    mkdirSync(join(dir, 'functions'));
    expect(listSources(join(dir, 'functions')).size).toBe(0);
  });

  it('follows symlinks to files and folders and skips broken ones', () => {
    const dir = tempTree({ 'real/a.js': '', 'target.js': '' });
    const functions = join(dir, 'functions');
    mkdirSync(functions);
    symlinkSync(join(dir, 'target.js'), join(functions, 'linked.js'));
    symlinkSync(join(dir, 'real'), join(functions, 'shared'));
    symlinkSync(join(dir, 'missing.js'), join(functions, 'broken.js'));
    const sources = listSources(functions);
    expect([...sources.keys()]).toEqual(['linked', 'shared/a']);
    expect(sources.get('shared/a')?.relPath).toBe('shared/a.js');
  });
});

describe('listSources and links', () => {
  it('does not enter a folder already on the way down (two links to ".")', () => {
    const dir = tempTree({ 'a.js': '', 'sub/b.js': '' });
    symlinkSync('.', join(dir, 'x'));
    symlinkSync('.', join(dir, 'y'));
    symlinkSync('..', join(dir, 'sub', 'up'));
    const names = [...listSources(dir).keys()];
    // Every link leads back to a folder already on the way: none is entered.
    expect(names).toEqual(['a', 'sub/b']);
  });

  it('marks sources whose real path is outside the functions folder', () => {
    const outside = tempTree({ 'secret.js': '', 'lib/deep.js': '' });
    const dir = tempTree({ 'own.js': '' });
    symlinkSync(join(outside, 'secret.js'), join(dir, 'secret.js'));
    symlinkSync(join(outside, 'lib'), join(dir, 'lib'));
    symlinkSync('own.js', join(dir, 'alias.js'));
    const sources = listSources(dir);
    expect(sources.get('own')?.outside).toBeUndefined();
    expect(sources.get('alias')?.outside).toBeUndefined();
    expect(sources.get('secret')?.outside).toBe(join(realpathSync(outside), 'secret.js'));
    expect(sources.get('lib/deep')?.outside).toBe(join(realpathSync(outside), 'lib', 'deep.js'));
  });
});
