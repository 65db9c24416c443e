import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest, manifestPathOf, MANIFEST_FIELDS, type Manifest } from '../../../src/manifest/load.js';
import { tempTree } from './tmp-tree.js';

const load = (config: string | undefined, files: Record<string, string> = {}, functionsRel = 'functions'): Manifest => {
  const tree: Record<string, string> = { ...files };
  if (config !== undefined) tree[`${functionsRel}/config.json`] = config;
  return loadManifest(tempTree(tree), functionsRel);
};
const lines = (...l: string[]) => l.join('\n') + '\n';
const brief = (m: Manifest) =>
  m.problems.map(({ rule, message, line, column, pointer, hint }) => ({ rule, message, line, column, pointer, hint }));

describe('MANIFEST_FIELDS', () => {
  it('is exactly the seven Atlas function fields, in schema order', () => {
    expect(MANIFEST_FIELDS).toEqual([
      'name',
      'private',
      'can_evaluate',
      'disable_arg_logs',
      'run_as_system',
      'run_as_user_id',
      'run_as_user_id_script_source',
    ]);
  });
});

describe('loadManifest: entries', () => {
  it('applies the Atlas defaults to an entry with only a name', () => {
    const m = load('[{ "name": "sum" }]', { 'functions/sum.js': 'exports = function () {};' });
    expect(m.problems).toEqual([]);
    expect(m.entries).toHaveLength(1);
    const e = m.entries[0]!;
    expect({ ...e, raw: undefined, source: undefined }).toEqual({
      index: 0,
      name: 'sum',
      private: false,
      canEvaluate: {},
      disableArgLogs: false,
      runAsSystem: false,
      runAsUserId: '',
      runAsUserIdScriptSource: '',
      raw: undefined,
      unknownFields: [],
      source: undefined,
    });
    expect(e.raw).toEqual({ name: 'sum' });
    expect(e.source).toEqual({ name: 'sum', path: join(m.functionsDir, 'sum.js'), relPath: 'sum.js' });
  });

  it('keeps every field that is set', () => {
    const m = load(
      JSON.stringify([
        {
          name: 'utils/add',
          private: true,
          can_evaluate: { '%%user.custom_data.role': 'admin' },
          disable_arg_logs: true,
          run_as_system: true,
          run_as_user_id: 'u1',
          run_as_user_id_script_source: 'exports = () => "u2"',
        },
      ]),
    );
    const { raw: _raw, source, ...e } = m.entries[0]!;
    expect(source).toBeUndefined();
    expect(e).toEqual({
      index: 0,
      name: 'utils/add',
      private: true,
      canEvaluate: { '%%user.custom_data.role': 'admin' },
      disableArgLogs: true,
      runAsSystem: true,
      runAsUserId: 'u1',
      runAsUserIdScriptSource: 'exports = () => "u2"',
      unknownFields: [],
    });
  });

  it('treats explicit defaults and empty strings as unset, and keeps boolean can_evaluate', () => {
    const m = load(
      JSON.stringify([
        {
          name: 'a',
          private: false,
          can_evaluate: {},
          disable_arg_logs: false,
          run_as_system: false,
          run_as_user_id: '',
          run_as_user_id_script_source: '',
        },
        { name: 'b', can_evaluate: false },
        { name: 'c', can_evaluate: true },
      ]),
    );
    expect(m.problems).toEqual([]);
    expect(m.entries.map((e) => [e.name, e.canEvaluate, e.runAsUserId, e.runAsUserIdScriptSource])).toEqual([
      ['a', {}, '', ''],
      ['b', false, '', ''],
      ['c', true, '', ''],
    ]);
  });

  it('lists unknown fields in the order written and keeps them in raw', () => {
    const m = load('[{ "name": "a", "privat": true, "id": "x", "private": true }]');
    expect(m.entries[0]!.unknownFields).toEqual(['privat', 'id']);
    expect(m.entries[0]!.raw).toEqual({ name: 'a', privat: true, id: 'x', private: true });
    expect(m.entries[0]!.private).toBe(true);
    expect(m.problems).toEqual([]);
  });

  it('accepts an empty array, a BOM and CRLF', () => {
    expect(load('[]').entries).toEqual([]);
    expect(load('[]').problems).toEqual([]);
    const m = load('\uFEFF[\r\n  { "name": "a" }\r\n]\r\n');
    expect(m.problems).toEqual([]);
    expect(m.entries.map((e) => e.name)).toEqual(['a']);
    expect(m.file?.bom).toBe(true);
    expect(m.file?.eol).toBe('\r\n');
  });

  it('records where things are: root, functions folder, the file and the sources', () => {
    const m = load('[]', { 'src/fns/a.js': '', 'src/fns/b/c.js': '' }, 'src/fns');
    expect(m.functionsRel).toBe('src/fns');
    expect(m.functionsDir).toBe(join(m.root, 'src', 'fns'));
    expect(m.file?.path).toBe(join(m.root, 'src', 'fns', 'config.json'));
    expect(m.file?.relPath).toBe('src/fns/config.json');
    expect([...m.sources.keys()]).toEqual(['a', 'b/c']);
    expect(manifestPathOf('/x/functions')).toBe(join('/x/functions', 'config.json'));
  });
});

describe('loadManifest: problems', () => {
  it('reports each wrong type with its position, pointer and message, and still resolves the entry, failing closed', () => {
    const m = load(
      lines(
        '[',
        '  {',
        '    "name": "b",',
        '    "private": "true",',
        '    "can_evaluate": [],',
        '    "disable_arg_logs": 1,',
        '    "run_as_system": null,',
        '    "run_as_user_id": 5,',
        '    "run_as_user_id_script_source": false',
        '  }',
        ']',
      ),
    );
    expect(brief(m)).toEqual([
      {
        rule: 'schema',
        message: '"private" must be true or false, found the string "true"',
        line: 4,
        column: 16,
        pointer: '/0/private',
        hint: 'write true without quotes',
      },
      {
        rule: 'schema',
        message: '"can_evaluate" must be an object or true or false, found an array',
        line: 5,
        column: 21,
        pointer: '/0/can_evaluate',
        hint: undefined,
      },
      {
        rule: 'schema',
        message: '"disable_arg_logs" must be true or false, found number 1',
        line: 6,
        column: 25,
        pointer: '/0/disable_arg_logs',
        hint: undefined,
      },
      {
        rule: 'schema',
        message: '"run_as_system" must be true or false, found null',
        line: 7,
        column: 22,
        pointer: '/0/run_as_system',
        hint: undefined,
      },
      {
        rule: 'schema',
        message: '"run_as_user_id" must be a string, found number 5',
        line: 8,
        column: 23,
        pointer: '/0/run_as_user_id',
        hint: undefined,
      },
      {
        rule: 'schema',
        message: '"run_as_user_id_script_source" must be a string, found boolean false',
        line: 9,
        column: 37,
        pointer: '/0/run_as_user_id_script_source',
        hint: undefined,
      },
    ]);
    expect(m.problems.every((p) => p.severity === 'error' && p.file === 'functions/config.json')).toBe(true);
    const { raw: _raw, source: _source, ...e } = m.entries[0]!;
    // Wrongly typed access fields fail closed (private, never allowed) until they are fixed.
    expect(e).toEqual({
      index: 0,
      name: 'b',
      private: true,
      canEvaluate: false,
      disableArgLogs: false,
      runAsSystem: false,
      runAsUserId: '',
      runAsUserIdScriptSource: '',
      unknownFields: [],
    });
  });

  it('hints at null for string fields and at quoted false', () => {
    const m = load('[{"name": "a", "run_as_user_id": null, "private": "false"}]');
    expect(brief(m)).toEqual([
      {
        rule: 'schema',
        message: '"private" must be true or false, found the string "false"',
        line: 1,
        column: 51,
        pointer: '/0/private',
        hint: 'write false without quotes',
      },
      {
        rule: 'schema',
        message: '"run_as_user_id" must be a string, found null',
        line: 1,
        column: 34,
        pointer: '/0/run_as_user_id',
        hint: 'use "" or remove the field to leave it unset',
      },
    ]);
  });

  it('reports the name: missing, empty, not a string; such entries are left out of entries', () => {
    const m = load(lines('[', '  { "private": true },', '  { "name": "" },', '  { "name": 7 },', '  { "name": "ok" }', ']'));
    expect(brief(m)).toEqual([
      {
        rule: 'schema',
        message: 'entry 0 has no "name"',
        line: 2,
        column: 3,
        pointer: '/0',
        hint: "every entry needs the function's name, its path under functions/ without .js",
      },
      { rule: 'schema', message: '"name" must not be empty', line: 3, column: 13, pointer: '/1/name', hint: undefined },
      { rule: 'schema', message: '"name" must be a string, found number 7', line: 4, column: 13, pointer: '/2/name', hint: undefined },
    ]);
    expect(m.entries.map((e) => [e.index, e.name])).toEqual([[3, 'ok']]);
  });

  it('reports entries that are not objects and skips them, keeping the others at their index', () => {
    const m = load(lines('[', '  42,', '  "sum",', '  null,', '  [],', '  { "name": "a" }', ']'));
    expect(brief(m)).toEqual([
      {
        rule: 'schema',
        message: 'entry 0 must be an object with a "name", found number 42',
        line: 2,
        column: 3,
        pointer: '/0',
        hint: undefined,
      },
      {
        rule: 'schema',
        message: 'entry 1 must be an object with a "name", found the string "sum"',
        line: 3,
        column: 3,
        pointer: '/1',
        hint: undefined,
      },
      {
        rule: 'schema',
        message: 'entry 2 must be an object with a "name", found null',
        line: 4,
        column: 3,
        pointer: '/2',
        hint: undefined,
      },
      {
        rule: 'schema',
        message: 'entry 3 must be an object with a "name", found an array',
        line: 5,
        column: 3,
        pointer: '/3',
        hint: undefined,
      },
    ]);
    expect(m.entries.map((e) => [e.index, e.name])).toEqual([[4, 'a']]);
  });

  it('reports a root that is not an array', () => {
    const m = load('{ "name": "a" }\n');
    expect(brief(m)).toEqual([
      {
        rule: 'schema',
        message: 'the manifest must be a JSON array of function entries, found an object',
        line: 1,
        column: 1,
        pointer: '',
        hint: 'wrap the entries in [ ]',
      },
    ]);
    expect(m.entries).toEqual([]);
    expect(brief(load('"x"'))[0]!.message).toBe('the manifest must be a JSON array of function entries, found the string "x"');
    expect(brief(load('null'))[0]!.message).toBe('the manifest must be a JSON array of function entries, found null');
  });

  it('reports syntax errors with hints and resolves nothing', () => {
    const m = load(lines('[', '  // sum', '  { "name": "a", }', ']'));
    expect(brief(m)).toEqual([
      {
        rule: 'json-syntax',
        message: 'comments are not allowed in JSON',
        line: 2,
        column: 3,
        pointer: undefined,
        hint: 'remove the comment: functions/config.json is strict JSON',
      },
      {
        rule: 'json-syntax',
        message: 'trailing commas are not allowed in JSON',
        line: 3,
        column: 16,
        pointer: undefined,
        hint: 'remove the comma after the last item',
      },
    ]);
    expect(m.entries).toEqual([]);
    expect(m.file?.syntaxErrors).toHaveLength(2);
  });

  it('reports an empty file as a syntax error', () => {
    const m = load('');
    expect(brief(m)).toEqual([
      {
        rule: 'json-syntax',
        message: 'the file is empty; a JSON value is expected',
        line: 1,
        column: 1,
        pointer: undefined,
        hint: undefined,
      },
    ]);
  });

  it('reports a missing manifest as manifest-missing and still lists the sources', () => {
    const m = load(undefined, { 'functions/a.js': '' });
    expect(m.problems).toEqual([
      {
        severity: 'error',
        rule: 'manifest-missing',
        message: 'functions/config.json does not exist',
        file: 'functions/config.json',
        line: 1,
        column: 1,
        hint: 'create it with the content [] (or run fn validate --fix to list every source)',
      },
    ]);
    expect(m.file).toBeUndefined();
    expect(m.entries).toEqual([]);
    expect([...m.sources.keys()]).toEqual(['a']);
  });

  it('reports a manifest that cannot be read (a folder named config.json) with its error code', () => {
    const m = load(undefined, { 'functions/config.json/': '' });
    expect(m.problems.map(({ rule, message, hint }) => ({ rule, message, hint }))).toEqual([
      { rule: 'manifest-missing', message: 'functions/config.json cannot be read (EISDIR)', hint: undefined },
    ]);
  });
});
