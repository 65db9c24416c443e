import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FnError } from '../../../src/errors.js';
import {
  appIdFromExport,
  DEFAULT_FUNCTIONS_DIR,
  displayPath,
  loadProject,
  resolveAppId,
  slugify,
} from '../../../src/project/load-project.js';
import { tempDir, tempTree, writeTree } from '../manifest/tmp-tree.js';

const brief = (ds: { rule: string; message: string; line: number; column: number; pointer?: string }[]) =>
  ds.map(({ rule, message, line, column, pointer }) => ({ rule, message, line, column, pointer }));

describe('loadProject: finding the app', () => {
  it('walks up from a nested folder and loads the manifest', () => {
    const base = tempDir();
    const root = writeTree(join(base, 'My App'), {
      'functions/config.json': '[{ "name": "sum" }]',
      'functions/sum.js': 'exports = () => 1;',
      'web/src/': '',
    });
    const p = loadProject(join(root, 'web', 'src'));
    expect(p.root).toBe(root);
    expect(p.configFile).toBeUndefined();
    expect(p.config).toEqual({});
    expect(p.problems).toEqual([]);
    expect(p.manifest.functionsRel).toBe('functions');
    expect(p.manifest.entries.map((e) => e.name)).toEqual(['sum']);
    expect(p.appId).toBe('my-app');
    expect(p.appIdSource).toBe('folder name');
  });

  it('starts from a file path', () => {
    const root = tempTree({ 'functions/config.json': '[]', 'functions/reports/monthly.js': '' });
    expect(loadProject(join(root, 'functions', 'reports', 'monthly.js')).root).toBe(root);
  });

  it('uses fn.config.json in the same folder as functions/config.json', () => {
    const root = tempTree({ 'fn.config.json': '{ "appId": "shop" }', 'functions/config.json': '[]' });
    const p = loadProject(root);
    expect(p.configFile?.path).toBe(join(root, 'fn.config.json'));
    expect(p.config).toEqual({ appId: 'shop' });
    expect([p.appId, p.appIdSource]).toEqual(['shop', 'fn.config.json']);
  });

  it('honours functionsDir, normalising backslashes and trailing slashes', () => {
    const root = tempTree({
      'fn.config.json': '{ "functionsDir": "src\\\\fns\\\\" }',
      'src/fns/config.json': '[{ "name": "a" }]',
      'src/fns/a.js': '',
      'functions/config.json': '[{ "name": "wrong" }]',
    });
    const p = loadProject(root);
    expect(p.problems).toEqual([]);
    expect(p.manifest.functionsRel).toBe('src/fns');
    expect(p.manifest.functionsDir).toBe(join(root, 'src', 'fns'));
    expect(p.manifest.entries.map((e) => [e.name, e.source?.relPath])).toEqual([['a', 'a.js']]);
    expect(DEFAULT_FUNCTIONS_DIR).toBe('functions');
  });

  it('reports a missing manifest under functionsDir as a problem, not an error', () => {
    const root = tempTree({ 'fn.config.json': '{ "functionsDir": "backend/functions" }' });
    const p = loadProject(root);
    expect(brief(p.problems)).toEqual([
      { rule: 'manifest-missing', message: 'backend/functions/config.json does not exist', line: 1, column: 1, pointer: undefined },
    ]);
  });

  it('passes manifest problems through', () => {
    const root = tempTree({ 'functions/config.json': '[{ "name": "a", "private": 1 }]' });
    expect(brief(loadProject(root).problems)).toEqual([
      { rule: 'schema', message: '"private" must be true or false, found number 1', line: 1, column: 28, pointer: '/0/private' },
    ]);
  });
});

describe('loadProject: no app', () => {
  it('throws NO_APP_ROOT (exit 3) with a hint', () => {
    const dir = tempTree({ 'x/': '' });
    const start = join(dir, 'x');
    let error: unknown;
    try {
      loadProject(start);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FnError);
    const e = error as FnError;
    expect(e.code).toBe('NO_APP_ROOT');
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe(`no app found at ${start} or above it (looked for fn.config.json or functions/config.json)`);
    expect(e.hint).toBe('run fn init to create an app, or pass --cwd <dir> pointing into one');
  });

  it('gives the legacy-layout hint for functions/<x>/config.json + source.js', () => {
    const root = tempTree({ 'functions/sum/config.json': '{ "name": "sum" }', 'functions/sum/source.js': 'exports = function () {};' });
    expect(() => loadProject(join(root, 'functions', 'sum'))).toThrow(
      expect.objectContaining({
        code: 'NO_APP_ROOT',
        hint: `${join(root, 'functions')} uses the older per-function layout (functions/<name>/config.json + source.js); export the app again with a current App Services CLI to get functions/config.json`,
      }),
    );
  });
});

describe('loadProject: fn.config.json problems', () => {
  it('reports unknown settings at their key and wrong types at their value', () => {
    const root = tempTree({
      'functions/config.json': '[]',
      'fn.config.json': [
        '{',
        '  "appId": 5,',
        '  "bogus": true,',
        '  "types": { "out": "", "zz": 1 },',
        '  "remotes": { "local": { "url": 1 }, "x": {} }',
        '}',
        '',
      ].join('\n'),
    });
    const p = loadProject(root);
    expect(brief(p.problems)).toEqual([
      { rule: 'config-invalid', message: '"bogus" is not a setting of fn.config.json', line: 3, column: 3, pointer: '/bogus' },
      { rule: 'config-invalid', message: '"appId" must be string', line: 2, column: 12, pointer: '/appId' },
      { rule: 'config-invalid', message: '"types.zz" is not a setting of fn.config.json', line: 4, column: 25, pointer: '/types/zz' },
      { rule: 'config-invalid', message: '"types.out" must NOT have fewer than 1 characters', line: 4, column: 21, pointer: '/types/out' },
      { rule: 'config-invalid', message: '"remotes.local.url" must be string', line: 5, column: 34, pointer: '/remotes/local/url' },
      { rule: 'config-invalid', message: `"remotes.x" must have required property 'url'`, line: 5, column: 44, pointer: '/remotes/x' },
    ]);
    expect(
      p.problems.every(
        (d) => d.file === 'fn.config.json' && d.severity === 'error' && d.hint === 'see schemas/fn-config.schema.json for the settings',
      ),
    ).toBe(true);
    // An invalid config is not used.
    expect(p.config).toEqual({});
  });

  it('reports a config that is not an object', () => {
    const root = tempTree({ 'functions/config.json': '[]', 'fn.config.json': '[]' });
    expect(brief(loadProject(root).problems)).toEqual([
      { rule: 'config-invalid', message: 'fn.config.json must be object', line: 1, column: 1, pointer: '' },
    ]);
  });

  it('reports syntax errors with their position', () => {
    const root = tempTree({ 'functions/config.json': '[]', 'fn.config.json': '{\n  "appId": "a",\n}\n' });
    const p = loadProject(root);
    expect(brief(p.problems)).toEqual([
      { rule: 'config-invalid', message: 'trailing commas are not allowed in JSON', line: 2, column: 15, pointer: undefined },
    ]);
    expect(p.config).toEqual({});
  });
});

describe('app id', () => {
  const EXPORT = {
    'functions/config.json': '[]',
    '.mdb/meta.json': '{ "config_version": 20230101, "app_id": "64f0c0ffee", "client_app_id": "myapp-abcde" }',
    'realm_config.json': '{ "app_id": "realm-app-xyz", "config_version": 20210101 }',
    'root_config.json': '{ "name": "rootname", "deployment_model": "GLOBAL" }',
  };

  it('fn.config.json appId comes first', () => {
    const root = tempTree({ ...EXPORT, 'fn.config.json': '{ "appId": "from-config" }' });
    expect(resolveAppId(root, { appId: 'from-config' })).toEqual(['from-config', 'fn.config.json']);
    const p = loadProject(root);
    expect([p.appId, p.appIdSource]).toEqual(['from-config', 'fn.config.json']);
  });

  it('then .mdb/meta.json client_app_id', () => {
    const root = tempTree(EXPORT);
    const p = loadProject(root);
    expect([p.appId, p.appIdSource]).toEqual(['myapp-abcde', '.mdb/meta.json']);
  });

  it('then realm_config.json app_id', () => {
    const { '.mdb/meta.json': _m, ...files } = EXPORT;
    expect(resolveAppId(tempTree(files), {})).toEqual(['realm-app-xyz', 'realm_config.json']);
  });

  it('then root_config.json name', () => {
    const { '.mdb/meta.json': _m, 'realm_config.json': _r, ...files } = EXPORT;
    expect(resolveAppId(tempTree(files), {})).toEqual(['rootname', 'root_config.json']);
  });

  it('skips files that are not JSON, lack the field, or hold an empty id, and trims', () => {
    const root = tempTree({
      '.mdb/meta.json': '{ not json',
      'realm_config.json': '{ "client_app_id": "  " }',
      'root_config.json': '\uFEFF{ "name": "  spaced  " }',
    });
    expect(appIdFromExport(root)).toEqual(['spaced', 'root_config.json']);
  });

  it('takes an older config.json only when it has config_version', () => {
    expect(appIdFromExport(tempTree({ 'config.json': '{ "name": "plain" }' }))).toBeUndefined();
    expect(appIdFromExport(tempTree({ 'config.json': '{ "config_version": 20200603, "app_id": "old-app" }' }))).toEqual([
      'old-app',
      'config.json',
    ]);
    expect(appIdFromExport(tempTree({ 'stitch.json': '{ "name": "stitchy" }' }))).toEqual(['stitchy', 'stitch.json']);
  });

  it('else the slugified folder name', () => {
    const root = writeTree(join(tempDir(), 'Café Ünïcode App!'), { 'functions/config.json': '[]' });
    const p = loadProject(root);
    expect([p.appId, p.appIdSource]).toEqual(['cafe-unicode-app', 'folder name']);
    expect(resolveAppId(writeTree(join(tempDir(), '!!!'), {}), {})).toEqual(['app', 'folder name']);
  });
});

describe('slugify / displayPath', () => {
  it('slugify keeps [a-z0-9_-], folds accents and case, and trims dashes', () => {
    expect(slugify('My App')).toBe('my-app');
    expect(slugify('  --Shop_v2--  ')).toBe('shop_v2');
    expect(slugify('Crème brûlée')).toBe('creme-brulee');
    expect(slugify('a..b//c')).toBe('a-b-c');
    expect(slugify('🚀')).toBe('');
  });

  it('displayPath is relative with / and . for the same folder', () => {
    expect(displayPath('/a/b', '/a/b/functions/config.json')).toBe('functions/config.json');
    expect(displayPath('/a/b', '/a/b')).toBe('.');
    expect(displayPath('/a/b', '/a/c')).toBe('../c');
  });
});
