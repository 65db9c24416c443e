import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/manifest/diagnostics.js';
import { loadManifest } from '../../../src/manifest/load.js';
import { checkManifest } from '../../../src/manifest/rules.js';
import { tempTree } from './tmp-tree.js';

const SRC = 'exports = function () {};\n';

/** checkManifest over functions/config.json (given as lines) and the named source files. */
function check(configLines: string[], sources: string[] = []): Diagnostic[] {
  const files: Record<string, string> = { 'functions/config.json': configLines.join('\n') + '\n' };
  for (const s of sources) files[`functions/${s}`] = SRC;
  return checkManifest(loadManifest(tempTree(files), 'functions'));
}
const only = (ds: Diagnostic[], rule: string) => ds.filter((d) => d.rule === rule);

describe('checkManifest: a clean app', () => {
  it('gives nothing when every entry has its source and every source its entry', () => {
    expect(
      check(
        ['[', '  { "name": "sum", "private": true },', '  { "name": "reports/monthly", "run_as_system": true, "can_evaluate": {} }', ']'],
        ['sum.js', 'reports/monthly.js'],
      ),
    ).toEqual([]);
  });

  it('gives nothing for a manifest it cannot read (the loader reports those)', () => {
    expect(checkManifest(loadManifest(tempTree({ 'functions/a.js': SRC }), 'functions'))).toEqual([]);
    expect(check(['[', '  { "name": "a", }', ']'], ['b.js'])).toEqual([]);
  });
});

describe('checkManifest: duplicate-name', () => {
  it('points at the second entry and names the first one with its line', () => {
    const ds = check(
      ['[', '  { "name": "sum" },', '  { "name": "other" },', '  {', '    "private": true,', '    "name": "sum"', '  }', ']'],
      ['sum.js', 'other.js'],
    );
    expect(ds).toEqual([
      {
        severity: 'error',
        rule: 'duplicate-name',
        message: 'function "sum" is already defined by entry 0 (line 2)',
        file: 'functions/config.json',
        line: 6,
        column: 13,
        pointer: '/2/name',
        hint: 'remove one of the two entries',
      },
    ]);
  });

  it('reports every later duplicate against the first', () => {
    const ds = check(['[', '  { "name": "a" },', '  { "name": "a" },', '  { "name": "a" }', ']'], ['a.js']);
    expect(ds.map((d) => [d.rule, d.line, d.message])).toEqual([
      ['duplicate-name', 3, 'function "a" is already defined by entry 0 (line 2)'],
      ['duplicate-name', 4, 'function "a" is already defined by entry 0 (line 2)'],
    ]);
  });

  it('is case-sensitive', () => {
    expect(only(check(['[', '  { "name": "a" },', '  { "name": "A" }', ']'], ['a.js', 'A.js']), 'duplicate-name')).toEqual([]);
  });
});

describe('checkManifest: missing-source', () => {
  it('says which file is missing and how to create it', () => {
    expect(check(['[', '  { "name": "reports/monthly" }', ']'])).toEqual([
      {
        severity: 'error',
        rule: 'missing-source',
        message: 'function "reports/monthly" has no source file functions/reports/monthly.js',
        file: 'functions/config.json',
        line: 2,
        column: 13,
        pointer: '/0/name',
        hint: 'create functions/reports/monthly.js with: exports = function (args) { ... }',
      },
    ]);
  });

  it('names a file with the same base name in a subfolder', () => {
    const ds = only(check(['[', '  { "name": "monthly" }', ']'], ['reports/monthly.js']), 'missing-source');
    expect(ds.map((d) => d.hint)).toEqual(['functions/reports/monthly.js exists: rename the entry to "reports/monthly" or move the file']);
  });

  it('names a file at the top when the entry has a folder', () => {
    const ds = only(check(['[', '  { "name": "reports/monthly" }', ']'], ['monthly.js']), 'missing-source');
    expect(ds.map((d) => d.hint)).toEqual(['functions/monthly.js exists: rename the entry to "monthly" or move the file']);
  });

  it('names a file that differs only in case', () => {
    const ds = only(check(['[', '  { "name": "other/helper" }', ']'], ['Other/Helper.js']), 'missing-source');
    expect(ds.map((d) => d.hint)).toEqual(['functions/Other/Helper.js exists: rename the entry to "Other/Helper" or move the file']);
  });

  it('lists every candidate when there are several', () => {
    const ds = only(check(['[', '  { "name": "monthly" }', ']'], ['a/monthly.js', 'b/monthly.js']), 'missing-source');
    expect(ds.map((d) => d.hint)).toEqual(['files with that name: functions/a/monthly.js, functions/b/monthly.js']);
  });

  it('names a file without an entry whose name is a near match, and that file names the entry', () => {
    const ds = check(['[', '  { "name": "applyDiscuont" }', ']'], ['applyDiscount.js']);
    expect(only(ds, 'missing-source').map((d) => d.hint)).toEqual([
      'functions/applyDiscount.js exists and has no entry: did you mean "applyDiscount"? (fn validate --fix renames the entry)',
    ]);
    expect(only(ds, 'orphan-source').map((d) => d.hint)).toEqual([
      'the entry "applyDiscuont" has no source: did you mean "applyDiscount"? (fn validate --fix renames the entry)',
    ]);
  });

  it('suggests no near match when two files are as near, or none is near enough', () => {
    expect(only(check(['[', '  { "name": "sendMail" }', ']'], ['sendMial.js', 'sendMali.js']), 'missing-source')[0]!.hint).toMatch(
      /^create /,
    );
    expect(only(check(['[', '  { "name": "abc" }', ']'], ['xyz.js']), 'missing-source')[0]!.hint).toMatch(/^create /);
  });

  it('names a .ts file with the expected name', () => {
    const files = { 'functions/config.json': '[{ "name": "reports/monthly" }]\n', 'functions/reports/monthly.ts': 'export {};\n' };
    const ds = only(checkManifest(loadManifest(tempTree(files), 'functions')), 'missing-source');
    expect(ds.map((d) => d.hint)).toEqual([
      'functions/reports/monthly.ts exists; function files must be .js (plain JavaScript, which App Services runs)',
    ]);
  });

  it('does not match a base name that only ends the same way', () => {
    const ds = only(check(['[', '  { "name": "monthly" }', ']'], ['reports/bimonthly.js']), 'missing-source');
    expect(ds.map((d) => d.hint)).toEqual(['create functions/monthly.js with: exports = function (args) { ... }']);
  });

  it('is not reported for an invalid name, but is for a name that is only not portable', () => {
    const ds = check(['[', '  { "name": "a/../b" },', '  { "name": "my func" }', ']']);
    expect(ds.map((d) => [d.rule, d.line])).toEqual([
      ['invalid-name', 2],
      ['name-not-portable', 3],
      ['missing-source', 3],
    ]);
  });
});

describe('checkManifest: names', () => {
  it('reports name problems at the name with the message and hint of checkName', () => {
    expect(check(['[', '  { "name": "reports\\\\monthly" }', ']'], ['reports/monthly.js'])).toEqual([
      {
        severity: 'error',
        rule: 'invalid-name',
        message: 'function name "reports\\\\monthly" contains a backslash',
        file: 'functions/config.json',
        line: 2,
        column: 13,
        pointer: '/0/name',
        hint: `names always use '/' between folders: "reports/monthly"`,
      },
      {
        severity: 'warning',
        rule: 'orphan-source',
        message: 'functions/reports/monthly.js has no entry in functions/config.json; App Services deploys it with the defaults',
        file: 'functions/reports/monthly.js',
        line: 1,
        column: 1,
        hint: 'run fn validate --fix to add { "name": "reports/monthly" }',
      },
    ]);
  });
});

describe('checkManifest: run-as fields', () => {
  it('run-as-conflict: user id and script together, at the script key', () => {
    const ds = check(
      [
        '[',
        '  {',
        '    "name": "a",',
        '    "run_as_user_id": "u1",',
        '    "run_as_user_id_script_source": "exports = () => \\"u2\\""',
        '  }',
        ']',
      ],
      ['a.js'],
    );
    expect(ds).toEqual([
      {
        severity: 'error',
        rule: 'run-as-conflict',
        message: 'function "a" sets both "run_as_user_id" and "run_as_user_id_script_source"',
        file: 'functions/config.json',
        line: 5,
        column: 5,
        pointer: '/0/run_as_user_id_script_source',
        hint: 'keep one of them: a fixed user id, or a script that returns one',
      },
    ]);
  });

  it('run-as-system-override: run_as_system with a user id, at the user id key', () => {
    const ds = check(['[', '  {', '    "name": "a",', '    "run_as_system": true,', '    "run_as_user_id": "u1"', '  }', ']'], ['a.js']);
    expect(ds).toEqual([
      {
        severity: 'warning',
        rule: 'run-as-system-override',
        message: '"run_as_system" is true, so "run_as_user_id" of "a" is ignored',
        file: 'functions/config.json',
        line: 5,
        column: 5,
        pointer: '/0/run_as_user_id',
        hint: 'remove "run_as_user_id" or set "run_as_system" to false',
      },
    ]);
  });

  it('run-as-system-override: run_as_system with a script', () => {
    const ds = check(['[', '  { "name": "a", "run_as_system": true, "run_as_user_id_script_source": "exports = () => 1" }', ']'], ['a.js']);
    expect(ds.map((d) => [d.rule, d.message, d.pointer, d.line, d.column])).toEqual([
      [
        'run-as-system-override',
        '"run_as_system" is true, so "run_as_user_id_script_source" of "a" is ignored',
        '/0/run_as_user_id_script_source',
        2,
        41,
      ],
    ]);
  });

  it('all three set: the conflict and the override of the user id', () => {
    const ds = check(
      ['[', '  { "name": "a", "run_as_system": true, "run_as_user_id": "u", "run_as_user_id_script_source": "s" }', ']'],
      ['a.js'],
    );
    expect(ds.map((d) => [d.rule, d.pointer])).toEqual([
      ['run-as-conflict', '/0/run_as_user_id_script_source'],
      ['run-as-system-override', '/0/run_as_user_id'],
    ]);
  });

  it('an empty string counts as unset', () => {
    const ds = check(
      [
        '[',
        '  { "name": "a", "run_as_system": true, "run_as_user_id": "", "run_as_user_id_script_source": "" },',
        '  { "name": "b", "run_as_user_id": "", "run_as_user_id_script_source": "exports = () => 1" },',
        '  { "name": "c", "run_as_user_id": "u", "run_as_user_id_script_source": "" },',
        '  { "name": "d", "run_as_system": false, "run_as_user_id": "u" }',
        ']',
      ],
      ['a.js', 'b.js', 'c.js', 'd.js'],
    );
    expect(ds).toEqual([]);
  });
});

describe('checkManifest: unknown-field', () => {
  it('suggests the nearest field, at the key', () => {
    const ds = check(['[', '  {', '    "nme": "a",', '    "name": "a"', '  }', ']'], ['a.js']);
    expect(ds).toEqual([
      {
        severity: 'warning',
        rule: 'unknown-field',
        message: '"nme" is not a function manifest field; App Services ignores it',
        file: 'functions/config.json',
        line: 3,
        column: 5,
        pointer: '/0/nme',
        hint: 'did you mean "name"?',
      },
    ]);
  });

  it('lists the fields when nothing is near', () => {
    const ds = check(['[', '  { "name": "a", "zzzzzzzzzz": 1, "owner": "ops", "privateNotes": "x" }', ']'], ['a.js']);
    expect(ds.map((d) => [d.rule, d.hint])).toEqual([
      [
        'unknown-field',
        'the fields are name, private, can_evaluate, disable_arg_logs, run_as_system, run_as_user_id, run_as_user_id_script_source',
      ],
      [
        'unknown-field',
        'the fields are name, private, can_evaluate, disable_arg_logs, run_as_system, run_as_user_id, run_as_user_id_script_source',
      ],
      ['unknown-field', 'did you mean "private"?'],
    ]);
  });
});

describe('checkManifest: unknown-access-field (fails closed)', () => {
  it('is an error at the key saying what the default then allows', () => {
    const ds = check(['[', '  {', '    "name": "a",', '    "privte": true', '  }', ']'], ['a.js']);
    expect(ds).toEqual([
      {
        severity: 'error',
        rule: 'unknown-access-field',
        message:
          '"privte" is not a function manifest field, and App Services ignores it: "private" stays at its default, so the function is public',
        file: 'functions/config.json',
        line: 4,
        column: 5,
        pointer: '/0/privte',
        hint: 'did you mean "private"?',
      },
    ]);
  });

  it.each([
    ['Private', 'private'],
    ['privat', 'private'],
    ['pirvate', 'private'],
    ['can_evalute', 'can_evaluate'],
    ['canEvaluate', 'can_evaluate'],
    ['can-evaluate', 'can_evaluate'],
    ['runAsSystem', 'run_as_system'],
    ['run_as_sytem', 'run_as_system'],
    ['runAsUserId', 'run_as_user_id'],
    ['run_as_userid', 'run_as_user_id'],
    ['runAsUserIdScriptSource', 'run_as_user_id_script_source'],
    ['disable_args_logs', 'disable_arg_logs'],
    ['disableArgLogs', 'disable_arg_logs'],
  ])('"%s" is taken for "%s"', (key, field) => {
    const ds = check(['[', `  { "name": "a", ${JSON.stringify(key)}: true }`, ']'], ['a.js']);
    expect(ds.map((d) => [d.severity, d.rule, d.hint])).toEqual([['error', 'unknown-access-field', `did you mean "${field}"?`]]);
  });

  it('leaves keys further away a warning', () => {
    const ds = check(['[', '  { "name": "a", "priv": true, "evaluate": {}, "system": true, "run_as_user_id_script": "" }', ']'], ['a.js']);
    expect(ds.map((d) => `${d.severity} ${d.rule}`)).toEqual(Array(4).fill('warning unknown-field'));
  });
});

describe('checkManifest: orphan-source', () => {
  it('warns about a source with no entry, at the file, with the --fix hint', () => {
    expect(check(['[]'], ['reports/monthly.js'])).toEqual([
      {
        severity: 'warning',
        rule: 'orphan-source',
        message: 'functions/reports/monthly.js has no entry in functions/config.json; App Services deploys it with the defaults',
        file: 'functions/reports/monthly.js',
        line: 1,
        column: 1,
        hint: 'run fn validate --fix to add { "name": "reports/monthly" }',
      },
    ]);
  });

  it('names the entry that differs only in case', () => {
    const ds = check(['[', '  { "name": "mixedCase" }', ']'], ['MixedCase.js']);
    expect(ds.map((d) => [d.rule, d.file, d.hint])).toEqual([
      ['missing-source', 'functions/config.json', 'functions/MixedCase.js exists: rename the entry to "MixedCase" or move the file'],
      ['orphan-source', 'functions/MixedCase.js', 'the entry "mixedCase" differs only in case: rename the file or the entry'],
    ]);
  });

  it('ignores node_modules and non-.js files', () => {
    expect(check(['[]'], ['node_modules/x/index.js', 'README.md.txt'])).toEqual([]);
  });
});
