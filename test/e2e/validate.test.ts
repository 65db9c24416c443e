// fn validate end to end: every rule with its position, the three output formats, the exit codes,
// the streams, --strict, --fix, the pre-commit paths (file arguments and --staged) and --watch.
// Runs the built bin/fn.js in temp copies of test/fixtures/validate/* or inline apps.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, it } from 'vitest';
import { bin, cleanupTemps, copyFixture, fn, makeApp, tempDir } from './helpers.js';

afterAll(() => cleanupTemps());

interface Diagnostic {
  severity: 'error' | 'warning';
  rule: string;
  message: string;
  file: string;
  line: number;
  column: number;
  pointer?: string;
  hint?: string;
}

interface Report {
  ok: boolean;
  strict: boolean;
  apps: { root: string; appId: string; functions: number; fixed: string[]; errors: number; warnings: number }[];
  diagnostics: Diagnostic[];
  summary: { errors: number; warnings: number; apps: number; functions: number };
  skipped: string[];
}

const EXPORTS = 'exports = function (args) { return args; };\n';

/** `fn validate --format json ...args` in `cwd`; stdout must be exactly one JSON document. */
async function validateJson(
  cwd: string,
  args: string[] = [],
): Promise<{ exitCode: number; report: Report; stderr: string; stdout: string }> {
  const r = await fn(['validate', '--format', 'json', ...args], { cwd });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.exitCode}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return { exitCode: r.exitCode, report, stderr: r.stderr, stdout: r.stdout };
}

/** The fields every rule test pins down. */
const brief = (d: Diagnostic) => ({ rule: d.rule, severity: d.severity, file: d.file, line: d.line, column: d.column });

function git(cwd: string, args: string[]) {
  return execa('git', args, { cwd, reject: true, env: { GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' } });
}

async function gitRepo(files: Record<string, string>): Promise<string> {
  const dir = makeApp(files);
  await git(dir, ['init', '-q']);
  await git(dir, ['config', 'user.name', 'fn tests']);
  await git(dir, ['config', 'user.email', 'fn-tests@example.invalid']);
  await git(dir, ['config', 'core.autocrlf', 'false']);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// One app per rule: rule id, severity, file, line, column, and the exit code.
// ---------------------------------------------------------------------------------------------

interface RuleCase {
  files: Record<string, string>;
  exitCode: 0 | 1;
  expected: ReturnType<typeof brief>[];
  /** Exact message / hint of the diagnostics, by index. */
  texts?: Record<number, { message?: string; hint?: string | undefined }>;
}

const M = 'functions/config.json';
const err = (rule: string, line: number, column: number, file = M) => ({ rule, severity: 'error' as const, file, line, column });
const warn = (rule: string, line: number, column: number, file = M) => ({ rule, severity: 'warning' as const, file, line, column });

const RULES: Record<string, RuleCase> = {
  'json-syntax: a trailing comma is an error at the comma': {
    files: { [M]: '[\n  {\n    "name": "a",\n  }\n]\n', 'functions/a.js': EXPORTS },
    exitCode: 1,
    expected: [err('json-syntax', 3, 16)],
    texts: { 0: { message: 'trailing commas are not allowed in JSON', hint: 'remove the comma after the last item' } },
  },
  'json-syntax: a line comment is an error at the comment': {
    files: { [M]: '[\n  // the greeting\n  { "name": "a" }\n]\n', 'functions/a.js': EXPORTS },
    exitCode: 1,
    expected: [err('json-syntax', 2, 3)],
    texts: { 0: { message: 'comments are not allowed in JSON', hint: 'remove the comment: functions/config.json is strict JSON' } },
  },
  'json-syntax: a block comment inside an entry is an error at the comment': {
    files: { [M]: '[\n  { "name": "a" /* why */ }\n]\n', 'functions/a.js': EXPORTS },
    exitCode: 1,
    expected: [err('json-syntax', 2, 17)],
    texts: { 0: { message: 'comments are not allowed in JSON' } },
  },
  'json-syntax: an empty manifest': {
    files: { [M]: '', 'functions/a.js': EXPORTS },
    exitCode: 1,
    expected: [err('json-syntax', 1, 1)],
    texts: { 0: { message: 'the file is empty; a JSON value is expected', hint: undefined } },
  },
  'a UTF-8 BOM and CRLF line endings are accepted': {
    files: {
      [M]: '\uFEFF[\r\n  { "name": "a" },\r\n  { "name": "b", "private": true }\r\n]\r\n',
      'functions/a.js': EXPORTS,
      'functions/b.js': EXPORTS,
    },
    exitCode: 0,
    expected: [],
  },
  'positions in a BOM + CRLF manifest count neither the BOM nor the CR': {
    files: { [M]: '\uFEFF[\r\n  { "name": "a" },\r\n  { "name": "a" }\r\n]\r\n', 'functions/a.js': EXPORTS },
    exitCode: 1,
    expected: [err('duplicate-name', 3, 13)],
  },
  'schema: the manifest is not an array': {
    files: { [M]: '{ "name": "a" }\n', 'functions/a.js': EXPORTS },
    exitCode: 1,
    expected: [err('schema', 1, 1), warn('orphan-source', 1, 1, 'functions/a.js')],
    texts: { 0: { message: 'the manifest must be a JSON array of function entries, found an object', hint: 'wrap the entries in [ ]' } },
  },
  'schema: entries that are not objects, and names that are missing, empty or not strings': {
    files: { [M]: '[\n  "a",\n  { "private": true },\n  { "name": "" },\n  { "name": 7 }\n]\n' },
    exitCode: 1,
    expected: [err('schema', 2, 3), err('schema', 3, 3), err('schema', 4, 13), err('schema', 5, 13)],
    texts: {
      0: { message: 'entry 0 must be an object with a "name", found the string "a"' },
      1: { message: 'entry 1 has no "name"', hint: "every entry needs the function's name, its path under functions/ without .js" },
      2: { message: '"name" must not be empty' },
      3: { message: '"name" must be a string, found number 7' },
    },
  },
  'schema: field types (booleans, can_evaluate, run-as strings)': {
    files: {
      [M]: [
        '[',
        '  { "name": "a", "private": "true" },',
        '  { "name": "b", "disable_arg_logs": 1, "run_as_system": null },',
        '  { "name": "c", "can_evaluate": [] },',
        '  { "name": "d", "can_evaluate": "yes" },',
        '  { "name": "e", "run_as_user_id": 42 },',
        '  { "name": "f", "run_as_user_id_script_source": null }',
        ']',
        '',
      ].join('\n'),
      'functions/a.js': EXPORTS,
      'functions/b.js': EXPORTS,
      'functions/c.js': EXPORTS,
      'functions/d.js': EXPORTS,
      'functions/e.js': EXPORTS,
      'functions/f.js': EXPORTS,
    },
    exitCode: 1,
    expected: [
      err('schema', 2, 29),
      err('schema', 3, 38),
      err('schema', 3, 58),
      err('schema', 4, 34),
      err('schema', 5, 34),
      err('schema', 6, 36),
      err('schema', 7, 50),
    ],
    texts: {
      0: { message: '"private" must be true or false, found the string "true"', hint: 'write true without quotes' },
      1: { message: '"disable_arg_logs" must be true or false, found number 1' },
      2: { message: '"run_as_system" must be true or false, found null' },
      3: { message: '"can_evaluate" must be an object or true or false, found an array' },
      4: { message: '"can_evaluate" must be an object or true or false, found the string "yes"' },
      5: { message: '"run_as_user_id" must be a string, found number 42' },
      6: { message: '"run_as_user_id_script_source" must be a string, found null', hint: 'use "" or remove the field to leave it unset' },
    },
  },
  'duplicate-name: points at the second entry and names the first': {
    files: {
      [M]: '[\n  { "name": "hello" },\n  { "name": "other" },\n  { "name": "hello", "private": true }\n]\n',
      'functions/hello.js': EXPORTS,
      'functions/other.js': EXPORTS,
    },
    exitCode: 1,
    expected: [err('duplicate-name', 4, 13)],
    texts: { 0: { message: 'function "hello" is already defined by entry 0 (line 2)', hint: 'remove one of the two entries' } },
  },
  'invalid-name: empty, dot and dot-dot segments, leading and trailing slash, backslash, control characters': {
    files: {
      [M]: [
        '[',
        '  { "name": "a//b" },',
        '  { "name": "./a" },',
        '  { "name": "a/../b" },',
        '  { "name": "/lead" },',
        '  { "name": "trail/" },',
        '  { "name": "back\\\\slash" },',
        '  { "name": "bell\\u0007" }',
        ']',
        '',
      ].join('\n'),
    },
    exitCode: 1,
    // An invalid name stops there: no missing-source on top of it.
    expected: [2, 3, 4, 5, 6, 7, 8].map((line) => err('invalid-name', line, 13)),
    texts: {
      0: { message: `function name "a//b" has an empty segment ('//')` },
      1: { message: `function name "./a" has a '.' segment`, hint: 'a name is a path inside functions/ and cannot step out of it' },
      2: { message: `function name "a/../b" has a '..' segment` },
      3: { message: `function name "/lead" has a leading '/'`, hint: 'use "lead"' },
      4: { message: `function name "trail/" has a trailing '/'`, hint: 'use "trail"' },
      5: { message: 'function name "back\\\\slash" contains a backslash', hint: `names always use '/' between folders: "back/slash"` },
      6: { message: 'function name "bell\\u0007" contains a control character' },
    },
  },
  'missing-source: the hint names a file with the same base name in a subfolder, or a different case': {
    files: {
      [M]: '[\n  { "name": "sendEmail" },\n  { "name": "Report" },\n  { "name": "ghost" }\n]\n',
      'functions/utils/sendEmail.js': EXPORTS,
      'functions/report.js': EXPORTS,
    },
    exitCode: 1,
    expected: [
      err('missing-source', 2, 13),
      err('missing-source', 3, 13),
      err('missing-source', 4, 13),
      warn('orphan-source', 1, 1, 'functions/report.js'),
      warn('orphan-source', 1, 1, 'functions/utils/sendEmail.js'),
    ],
    texts: {
      0: {
        message: 'function "sendEmail" has no source file functions/sendEmail.js',
        hint: 'functions/utils/sendEmail.js exists: rename the entry to "utils/sendEmail" or move the file',
      },
      1: {
        message: 'function "Report" has no source file functions/Report.js',
        hint: 'functions/report.js exists: rename the entry to "report" or move the file',
      },
      2: {
        message: 'function "ghost" has no source file functions/ghost.js',
        hint: 'create functions/ghost.js with: exports = function (args) { ... }',
      },
      3: { hint: 'the entry "Report" differs only in case: rename the file or the entry' },
    },
  },
  'run-as-conflict: at the run_as_user_id_script_source key': {
    files: {
      [M]: '[\n  {\n    "name": "a",\n    "run_as_user_id": "5f1e",\n    "run_as_user_id_script_source": "exports = function () { return \\"5f1e\\"; }"\n  }\n]\n',
      'functions/a.js': EXPORTS,
    },
    exitCode: 1,
    expected: [err('run-as-conflict', 5, 5)],
    texts: {
      0: {
        message: 'function "a" sets both "run_as_user_id" and "run_as_user_id_script_source"',
        hint: 'keep one of them: a fixed user id, or a script that returns one',
      },
    },
  },
  'an empty string counts as unset for the run-as fields': {
    files: {
      [M]: [
        '[',
        '  { "name": "a", "run_as_system": true, "run_as_user_id": "" },',
        '  { "name": "b", "run_as_system": true, "run_as_user_id_script_source": "" },',
        '  { "name": "c", "run_as_user_id": "", "run_as_user_id_script_source": "exports = function () { return \\"u\\"; }" },',
        '  { "name": "d", "run_as_user_id": "u", "run_as_user_id_script_source": "" }',
        ']',
        '',
      ].join('\n'),
      'functions/a.js': EXPORTS,
      'functions/b.js': EXPORTS,
      'functions/c.js': EXPORTS,
      'functions/d.js': EXPORTS,
    },
    exitCode: 0,
    expected: [],
  },
  'run-as-system-override: a warning at the ignored field': {
    files: { [M]: '[\n  { "name": "a", "run_as_system": true, "run_as_user_id": "5f1e" }\n]\n', 'functions/a.js': EXPORTS },
    exitCode: 0,
    expected: [warn('run-as-system-override', 2, 41)],
    texts: {
      0: {
        message: '"run_as_system" is true, so "run_as_user_id" of "a" is ignored',
        hint: 'remove "run_as_user_id" or set "run_as_system" to false',
      },
    },
  },
  'invalid-expression: an unknown expansion field and an unknown operator': {
    files: {
      [M]: '[\n  {\n    "name": "a",\n    "can_evaluate": { "%%user.idd": "x" }\n  },\n  {\n    "name": "b",\n    "can_evaluate": { "%%user.id": { "$inn": ["x"] } }\n  }\n]\n',
      'functions/a.js': EXPORTS,
      'functions/b.js': EXPORTS,
    },
    exitCode: 1,
    expected: [err('invalid-expression', 4, 23), err('invalid-expression', 8, 38)],
    texts: {
      0: { message: '%%user has no field idd', hint: 'Did you mean %%user.id?' },
      1: { message: 'App Services expressions have no operator $inn', hint: 'Did you mean $in?' },
    },
  },
  'script-syntax: a run-as script that does not parse (a bare function expression is fine)': {
    files: {
      [M]: '[\n  {\n    "name": "a",\n    "run_as_user_id_script_source": "exports = function ( {"\n  },\n  {\n    "name": "b",\n    "run_as_user_id_script_source": "function () { return \\"u\\"; }"\n  }\n]\n',
      'functions/a.js': EXPORTS,
      'functions/b.js': EXPORTS,
    },
    exitCode: 1,
    expected: [err('script-syntax', 4, 37)],
    texts: { 0: { message: '"run_as_user_id_script_source" of "a" does not parse: Unexpected token (script line 1, column 23)' } },
  },
  'source-syntax: a syntax error and an import statement, at their position in the source': {
    files: {
      [M]: '[\n  { "name": "a" },\n  { "name": "b" }\n]\n',
      'functions/a.js': 'exports = function (x) {\n  return x +;\n};\n',
      'functions/b.js': 'import x from "y";\nexports = function () { return x; };\n',
    },
    exitCode: 1,
    expected: [err('source-syntax', 2, 13, 'functions/a.js'), err('source-syntax', 1, 1, 'functions/b.js')],
    texts: {
      0: { message: 'syntax error: Unexpected token', hint: 'function files are plain scripts (no import/export statements)' },
      1: { message: "syntax error: 'import' and 'export' may appear only with 'sourceType: module'" },
    },
  },
  'no-exports: module.exports, no assignment at all, a value that is not a function': {
    files: {
      [M]: '[\n  { "name": "a" },\n  { "name": "b" },\n  { "name": "c" },\n  { "name": "d" }\n]\n',
      'functions/a.js': '// CommonJS habit\nmodule.exports = function () {};\n',
      'functions/b.js': 'const x = 1;\n',
      'functions/c.js': '\nexports = 42;\n',
      'functions/d.js': 'exports = async (x) => x;\n',
    },
    exitCode: 1,
    expected: [
      err('no-exports', 2, 1, 'functions/a.js'),
      err('no-exports', 1, 1, 'functions/b.js'),
      err('no-exports', 2, 1, 'functions/c.js'),
    ],
    texts: {
      0: {
        message: 'the file assigns module.exports, which App Services does not provide',
        hint: 'replace module.exports with exports = function (...) { ... }: module is undefined in App Services',
      },
      1: { message: 'the file never assigns a function to exports', hint: 'write exports = function (args) { ... }' },
      2: { message: 'the value assigned to exports is not a function' },
    },
  },
  'orphan-source: a warning per source without an entry, with the --fix hint': {
    files: {
      [M]: '[]\n',
      'functions/a.js': EXPORTS,
      'functions/sub/b.js': EXPORTS,
      'functions/node_modules/dep/index.js': 'module.exports = 1;\n',
    },
    exitCode: 0,
    expected: [warn('orphan-source', 1, 1, 'functions/a.js'), warn('orphan-source', 1, 1, 'functions/sub/b.js')],
    texts: {
      0: {
        message: 'functions/a.js has no entry in functions/config.json; App Services deploys it with the defaults',
        hint: 'run fn validate --fix to add { "name": "a" }',
      },
      1: { hint: 'run fn validate --fix to add { "name": "sub/b" }' },
    },
  },
  'unknown-field: a warning at the key, with a suggestion when one is close': {
    files: { [M]: '[\n  { "name": "a", "nmae": true, "owner": "ops" }\n]\n', 'functions/a.js': EXPORTS },
    exitCode: 0,
    expected: [warn('unknown-field', 2, 18), warn('unknown-field', 2, 32)],
    texts: {
      0: { message: '"nmae" is not a function manifest field; App Services ignores it', hint: 'did you mean "name"?' },
      1: {
        hint: 'the fields are name, private, can_evaluate, disable_arg_logs, run_as_system, run_as_user_id, run_as_user_id_script_source',
      },
    },
  },
  'unknown-access-field: a misspelt access field is an error (fails closed)': {
    files: {
      [M]: '[\n  { "name": "adminOnly", "privte": true },\n  { "name": "b", "canEvaluate": { "%%user.type": "server" }, "runAsSystem": true }\n]\n',
      'functions/adminOnly.js': EXPORTS,
      'functions/b.js': EXPORTS,
    },
    exitCode: 1,
    expected: [err('unknown-access-field', 2, 26), err('unknown-access-field', 3, 18), err('unknown-access-field', 3, 62)],
    texts: {
      0: {
        message:
          '"privte" is not a function manifest field, and App Services ignores it: "private" stays at its default, so the function is public',
        hint: 'did you mean "private"?',
      },
      1: {
        message:
          '"canEvaluate" is not a function manifest field, and App Services ignores it: "can_evaluate" stays at its default, so any caller may call it',
        hint: 'did you mean "can_evaluate"?',
      },
      2: { hint: 'did you mean "run_as_system"?' },
    },
  },
  'name-not-portable: spaces, an extension, other characters': {
    files: {
      [M]: '[\n  { "name": "my func" },\n  { "name": "tools.js" },\n  { "name": "dir/b@c" }\n]\n',
      'functions/my func.js': EXPORTS,
      'functions/tools.js.js': EXPORTS,
      'functions/dir/b@c.js': EXPORTS,
    },
    exitCode: 0,
    expected: [warn('name-not-portable', 2, 13), warn('name-not-portable', 3, 13), warn('name-not-portable', 4, 13)],
    texts: {
      0: {
        message: 'function name "my func" has characters outside [A-Za-z0-9_-] in "my func"',
        hint: 'use letters, digits, "_" and "-" so the name works in URLs, file systems and generated types',
      },
      1: { hint: 'names do not include the extension: "tools"' },
      2: { message: 'function name "dir/b@c" has characters outside [A-Za-z0-9_-] in "b@c"' },
    },
  },
  'top-level-require: package and relative requires outside the function (inside is fine)': {
    files: {
      [M]: '[\n  { "name": "a" }\n]\n',
      'functions/a.js':
        'const _ = require("lodash");\nconst helper = require("./helper");\nexports = function () {\n  const ok = require("bson");\n  return [_, helper, ok];\n};\n',
    },
    exitCode: 0,
    expected: [warn('top-level-require', 1, 11, 'functions/a.js'), warn('top-level-require', 2, 16, 'functions/a.js')],
    texts: {
      0: {
        message: 'require("lodash") outside the function: App Services resolves require only inside the function body',
        hint: 'move the require into the exported function',
      },
      1: {
        message:
          'require("./helper") outside the function: App Services deploys each function file alone, so relative requires do not resolve',
        hint: 'share code through context.functions.execute("<name>") or an npm package',
      },
    },
  },
  'endpoint-invalid: a method App Services has not, at the method': {
    files: {
      [M]: '[{ "name": "a" }]\n',
      'functions/a.js': EXPORTS,
      'http_endpoints/config.json': '[\n  { "route": "/a", "http_method": "FETCH", "function_name": "a" }\n]\n',
    },
    exitCode: 1,
    expected: [err('endpoint-invalid', 2, 35, 'http_endpoints/config.json')],
    texts: { 0: { message: '/0/http_method must be one of "GET", "POST", "PUT", "PATCH", "DELETE", "*"' } },
  },
  'duplicate-endpoint: a second endpoint of one route and method, at its route': {
    files: {
      [M]: '[{ "name": "a" }]\n',
      'functions/a.js': EXPORTS,
      'http_endpoints/config.json':
        '[\n  { "route": "/a", "http_method": "GET", "function_name": "a" },\n  { "route": "/a", "http_method": "GET", "function_name": "a" }\n]\n',
    },
    exitCode: 1,
    expected: [err('duplicate-endpoint', 3, 14, 'http_endpoints/config.json')],
  },
  'unknown-endpoint-function: function_name names no function, at the name': {
    files: {
      [M]: '[{ "name": "a" }]\n',
      'functions/a.js': EXPORTS,
      'http_endpoints/config.json': '[\n  { "route": "/a", "http_method": "GET", "function_name": "b" }\n]\n',
    },
    exitCode: 1,
    expected: [err('unknown-endpoint-function', 2, 59, 'http_endpoints/config.json')],
  },
  'unknown-secret: a secret_name not in .fn/secrets.json is a warning': {
    files: {
      [M]: '[{ "name": "a" }]\n',
      'functions/a.js': EXPORTS,
      'http_endpoints/config.json':
        '[\n  { "route": "/a", "http_method": "GET", "function_name": "a", "validation_method": "SECRET_AS_QUERY_PARAM", "secret_name": "s" }\n]\n',
    },
    exitCode: 0,
    expected: [warn('unknown-secret', 2, 125, 'http_endpoints/config.json')],
  },
  'value-invalid: a values file that is not a JSON object is an error': {
    files: { [M]: '[{ "name": "a" }]\n', 'functions/a.js': EXPORTS, 'values/broken.json': '{ "name": "broken", ' },
    exitCode: 1,
    expected: [err('value-invalid', 1, 1, 'values/broken.json')],
  },
  'missing-secret: a from_secret value whose secret .fn/secrets.json lacks is a warning': {
    files: {
      [M]: '[{ "name": "a" }]\n',
      'functions/a.js': EXPORTS,
      'values/key.json': '{ "name": "key", "from_secret": true, "value": "apiKey" }\n',
      '.fn/secrets.json': '{ "secrets": { "other": { "value": "x", "updatedAt": "2026-01-01T00:00:00.000Z" } } }\n',
    },
    exitCode: 0,
    expected: [warn('missing-secret', 1, 1, 'values/key.json')],
    texts: { 0: { hint: 'fn secrets set apiKey (and fn secrets set apiKey --remote before fn push)' } },
  },
};

describe.concurrent('fn validate: rules', () => {
  for (const [title, c] of Object.entries(RULES)) {
    it(title, async ({ expect }) => {
      const { exitCode, report, stderr } = await validateJson(makeApp(c.files));
      expect(report.diagnostics.map(brief)).toEqual(c.expected);
      for (const [i, t] of Object.entries(c.texts ?? {})) {
        const d = report.diagnostics[Number(i)]!;
        if ('message' in t) expect(d.message).toBe(t.message);
        if ('hint' in t) expect(d.hint).toBe(t.hint);
      }
      expect(exitCode).toBe(c.exitCode);
      expect(report.ok).toBe(c.exitCode === 0);
      expect(report.summary.errors).toBe(c.expected.filter((d) => d.severity === 'error').length);
      expect(report.summary.warnings).toBe(c.expected.filter((d) => d.severity === 'warning').length);
      expect(stderr).toBe('');
    });
  }

  it('run_as_system with both run-as fields: a conflict error and an override warning', async ({ expect }) => {
    const dir = makeApp({
      [M]: '[\n  {\n    "name": "a",\n    "run_as_system": true,\n    "run_as_user_id": "u1",\n    "run_as_user_id_script_source": "exports = function () { return \\"u2\\"; }"\n  }\n]\n',
      'functions/a.js': EXPORTS,
    });
    const { exitCode, report } = await validateJson(dir);
    expect(report.diagnostics.map((d) => ({ ...brief(d), pointer: d.pointer }))).toEqual([
      { ...warn('run-as-system-override', 5, 5), pointer: '/0/run_as_user_id' },
      { ...err('run-as-conflict', 6, 5), pointer: '/0/run_as_user_id_script_source' },
    ]);
    expect(exitCode).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Output formats, exit codes and streams.
// ---------------------------------------------------------------------------------------------

describe.concurrent('fn validate: formats, exit codes and streams', () => {
  it('exit 0: a clean app prints one summary line on stdout and nothing on stderr', async ({ expect }) => {
    const r = await fn(['validate'], { cwd: copyFixture('validate/clean') });
    expect(r).toEqual({ exitCode: 0, stdout: '✔ no problems (2 functions)', stderr: '' });
  });

  it('text: "file:line:col  severity  rule  message", a code frame with a caret under the column, the hint, a summary', async ({
    expect,
  }) => {
    const r = await fn(['validate'], { cwd: copyFixture('validate/run-as-conflict') });
    expect(r.stdout).toBe(
      [
        'functions/config.json:12:5  error  run-as-conflict  function "orders/list" sets both "run_as_user_id" and "run_as_user_id_script_source"',
        '   12 |     "run_as_user_id_script_source": "exports = function () { return \\"x\\"; }"',
        '      |     ^',
        '  hint: keep one of them: a fixed user id, or a script that returns one',
        '',
        '✖ 1 problem (1 error, 0 warnings) in 2 functions',
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(1);
  });

  it('text: the code frame of a source file and of a CRLF manifest with a BOM', async ({ expect }) => {
    const dir = makeApp({
      [M]: '\uFEFF[\r\n  { "name": "a", "nmae": true }\r\n]\r\n',
      'functions/a.js': '\tconst x = require("x");\nexports = function () { return x; };\n',
    });
    const r = await fn(['validate'], { cwd: dir });
    expect(r.stdout).toBe(
      [
        'functions/config.json:2:18  warning  unknown-field  "nmae" is not a function manifest field; App Services ignores it',
        '    2 |   { "name": "a", "nmae": true }',
        '      |                  ^',
        '  hint: did you mean "name"?',
        '',
        'functions/a.js:1:12  warning  top-level-require  require("x") outside the function: App Services resolves require only inside the function body',
        '    1 |  const x = require("x");',
        '      |            ^',
        '  hint: move the require into the exported function',
        '',
        '⚠ 2 problems (0 errors, 2 warnings) in 1 function',
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('json: one document {ok, strict, apps, diagnostics, summary, skipped} on stdout', async ({ expect }) => {
    const dir = copyFixture('validate/run-as-conflict');
    const { exitCode, report, stdout, stderr } = await validateJson(dir);
    expect(stdout.split('\n')).toHaveLength(1);
    expect(Object.keys(report)).toEqual(['ok', 'strict', 'apps', 'diagnostics', 'summary', 'skipped']);
    expect(report).toEqual({
      ok: false,
      strict: false,
      apps: [{ root: '.', appId: basename(dir).toLowerCase(), functions: 2, fixed: [], renamed: [], errors: 1, warnings: 0 }],
      diagnostics: [
        {
          severity: 'error',
          rule: 'run-as-conflict',
          message: 'function "orders/list" sets both "run_as_user_id" and "run_as_user_id_script_source"',
          file: 'functions/config.json',
          line: 12,
          column: 5,
          pointer: '/1/run_as_user_id_script_source',
          hint: 'keep one of them: a fixed user id, or a script that returns one',
        },
      ],
      summary: { errors: 1, warnings: 0, apps: 1, functions: 2 },
      skipped: [],
    });
    expect(stderr).toBe('');
    expect(exitCode).toBe(1);
  });

  it('--json prints the same document as --format json', async ({ expect }) => {
    const dir = copyFixture('validate/run-as-conflict');
    const [a, b] = await Promise.all([fn(['validate', '--json'], { cwd: dir }), fn(['validate', '--format', 'json'], { cwd: dir })]);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(a.stdout).summary).toEqual({ errors: 1, warnings: 0, apps: 1, functions: 2 });
    expect([a.exitCode, b.exitCode]).toEqual([1, 1]);
  });

  it('github: one workflow annotation per finding, with % and newlines escaped, and no summary', async ({ expect }) => {
    const dir = makeApp({
      [M]: '[\n  {\n    "name": "a",\n    "can_evaluate": { "%%user.idd": "x" }\n  }\n]\n',
      'functions/a.js': EXPORTS,
      'functions/b.js': EXPORTS,
    });
    const r = await fn(['validate', '--format', 'github'], { cwd: dir });
    expect(r.stdout).toBe(
      [
        '::error file=functions/config.json,line=4,col=23,title=fn invalid-expression::%25%25user has no field idd%0ADid you mean %25%25user.id?',
        '::warning file=functions/b.js,line=1,col=1,title=fn orphan-source::functions/b.js has no entry in functions/config.json; App Services deploys it with the defaults%0Arun fn validate --fix to add { "name": "b" }',
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(1);
  });

  it('github: a clean app prints nothing and exits 0', async ({ expect }) => {
    const r = await fn(['validate', '--format', 'github'], { cwd: copyFixture('validate/clean') });
    expect(r).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('--strict: warnings alone pass without it and fail with it', async ({ expect }) => {
    const dir = makeApp({ [M]: '[]\n', 'functions/a.js': EXPORTS });
    const [plain, strict, strictJson] = await Promise.all([
      fn(['validate'], { cwd: dir }),
      fn(['validate', '--strict'], { cwd: dir }),
      validateJson(dir, ['--strict']),
    ]);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout.split('\n').at(-1)).toBe('⚠ 1 problem (0 errors, 1 warning) in 1 function');
    expect(strict.exitCode).toBe(1);
    expect(strict.stdout.split('\n').at(-1)).toBe('✖ 1 problem (0 errors, 1 warning) in 1 function — failing because of --strict');
    expect(strict.stderr).toBe('');
    expect(strictJson.exitCode).toBe(1);
    expect(strictJson.report.ok).toBe(false);
    expect(strictJson.report.strict).toBe(true);
    expect(strictJson.report.summary).toEqual({ errors: 0, warnings: 1, apps: 1, functions: 1 });
  });

  it('--strict on a clean app still exits 0', async ({ expect }) => {
    const { exitCode, report } = await validateJson(copyFixture('validate/clean'), ['--strict']);
    expect(exitCode).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.strict).toBe(true);
  });

  it('exit 2: an unknown flag is a usage error on stderr, stdout stays empty', async ({ expect }) => {
    const r = await fn(['validate', '--bogus'], { cwd: copyFixture('validate/clean') });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("error: unknown option '--bogus'\n(run fn validate --help for usage)");
  });

  it('exit 2: a --format outside text, json, github', async ({ expect }) => {
    const r = await fn(['validate', '--format', 'xml'], { cwd: copyFixture('validate/clean') });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("option '--format <format>' argument 'xml' is invalid. Allowed choices are text, json, github.");
  });

  it('exit 2: --fix with --staged, before anything is written', async ({ expect }) => {
    const dir = makeApp({ [M]: '[]\n', 'functions/a.js': EXPORTS });
    const r = await fn(['validate', '--fix', '--staged'], { cwd: dir });
    expect(r).toEqual({
      exitCode: 2,
      stdout: '',
      stderr:
        'error --fix cannot be used with --staged: the index is not a working tree\nhint run fn validate --fix, then git add the manifest',
    });
    expect(readFileSync(join(dir, M), 'utf8')).toBe('[]\n');
  });

  it('exit 2 under --json: the usage error is a JSON document on stdout, stderr stays empty', async ({ expect }) => {
    const dir = copyFixture('validate/clean');
    const [flag, fixStaged, format] = await Promise.all([
      fn(['validate', '--json', '--bogus'], { cwd: dir }),
      fn(['validate', '--json', '--fix', '--staged'], { cwd: dir }),
      fn(['validate', '--json', '--format', 'xml'], { cwd: dir }),
    ]);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toBe('');
    expect(JSON.parse(flag.stdout)).toEqual({
      ok: false,
      error: { code: 'USAGE', message: "unknown option '--bogus'", hint: 'run fn validate --help for usage' },
    });
    expect(fixStaged.exitCode).toBe(2);
    expect(fixStaged.stderr).toBe('');
    expect(JSON.parse(fixStaged.stdout)).toEqual({
      ok: false,
      error: {
        code: 'USAGE',
        message: '--fix cannot be used with --staged: the index is not a working tree',
        hint: 'run fn validate --fix, then git add the manifest',
      },
    });
    expect(format.exitCode).toBe(2);
    expect(format.stderr).toBe('');
    expect(JSON.parse(format.stdout).error.code).toBe('USAGE');
  });

  it('exit 3: no app root, the error and a hint on stderr', async ({ expect }) => {
    const r = await fn(['validate'], { cwd: tempDir() });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^error no app found at .+ or above it \(looked for fn\.config\.json or functions\/config\.json\)$/);
    expect(lines[1]).toBe('hint run fn init to create an app, or pass --cwd <dir> pointing into one');
  });

  it('exit 3 under --json: {"ok":false,"error":{code,message,hint}} on stdout', async ({ expect }) => {
    const r = await fn(['validate', '--json'], { cwd: tempDir() });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['ok', 'error']);
    expect(doc.ok).toBe(false);
    expect(Object.keys(doc.error)).toEqual(['code', 'message', 'hint']);
    expect(doc.error.code).toBe('NO_APP_ROOT');
    expect(doc.error.message).toMatch(/^no app found at .+ or above it/);
    expect(doc.error.hint).toBe('run fn init to create an app, or pass --cwd <dir> pointing into one');
  });

  it('exit 3 with --format=json: the error is JSON on stdout', async ({ expect }) => {
    const r = await fn(['validate', '--format=json'], { cwd: tempDir() });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).error.code).toBe('NO_APP_ROOT');
  });

  it('exit 3 with --format json (two tokens): the error is JSON on stdout like --format=json', async ({ expect }) => {
    const r = await fn(['validate', '--format', 'json'], { cwd: tempDir() });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).error.code).toBe('NO_APP_ROOT');
  });

  it('a hint-free json-syntax error still yields exit 1, not a load failure', async ({ expect }) => {
    const { exitCode, report } = await validateJson(makeApp({ [M]: '[\n  { "name": "a" }\n]\n]\n', 'functions/a.js': EXPORTS }));
    expect(report.diagnostics.map(brief)).toEqual([err('json-syntax', 4, 1)]);
    expect(report.diagnostics[0]!.message).toBe('unexpected text after the end of the JSON value');
    expect(exitCode).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// App root discovery and file arguments (the pre-commit path).
// ---------------------------------------------------------------------------------------------

describe.concurrent('fn validate: app root discovery and paths', () => {
  it('walks up from a subfolder given with --cwd', async ({ expect }) => {
    const dir = copyFixture('validate/run-as-conflict');
    const { exitCode, report } = await validateJson(dir, ['--cwd', 'functions/orders']);
    expect(report.apps.map((a) => a.root)).toEqual(['../..']);
    expect(report.diagnostics.map(brief)).toEqual([err('run-as-conflict', 12, 5, '../../functions/config.json')]);
    expect(exitCode).toBe(1);
  });

  it('walks up from the process cwd too', async ({ expect }) => {
    const r = await fn(['validate'], { cwd: join(copyFixture('validate/clean'), 'functions', 'orders') });
    expect(r).toEqual({ exitCode: 0, stdout: '✔ no problems (2 functions)', stderr: '' });
  });

  it('fn.config.json with functionsDir: the custom folder is validated, functions/ is not', async ({ expect }) => {
    const dir = copyFixture('validate/custom-dir');
    const [atRoot, inside] = await Promise.all([validateJson(dir), validateJson(join(dir, 'backend', 'fns'))]);
    expect(atRoot.report.apps).toEqual([{ root: '.', appId: 'custom-app', functions: 2, fixed: [], renamed: [], errors: 0, warnings: 1 }]);
    expect(atRoot.report.diagnostics.map(brief)).toEqual([warn('orphan-source', 1, 1, 'backend/fns/extra.js')]);
    expect(atRoot.report.diagnostics[0]!.message).toBe(
      'backend/fns/extra.js has no entry in backend/fns/config.json; App Services deploys it with the defaults',
    );
    expect(atRoot.exitCode).toBe(0);
    expect(inside.report.apps.map((a) => [a.root, a.appId])).toEqual([['../..', 'custom-app']]);
    expect(inside.report.diagnostics.map(brief)).toEqual([warn('orphan-source', 1, 1, '../../backend/fns/extra.js')]);
    expect(inside.exitCode).toBe(0);
  });

  it('an Atlas export with root_config.json and no fn.config.json', async ({ expect }) => {
    const dir = copyFixture('validate/atlas-export');
    const [atRoot, inside] = await Promise.all([validateJson(dir), validateJson(join(dir, 'functions'))]);
    expect(atRoot.report).toEqual({
      ok: true,
      strict: false,
      apps: [{ root: '.', appId: 'shop-abcde', functions: 1, fixed: [], renamed: [], errors: 0, warnings: 0 }],
      diagnostics: [],
      summary: { errors: 0, warnings: 0, apps: 1, functions: 1 },
      skipped: [],
    });
    expect(atRoot.exitCode).toBe(0);
    expect(inside.report.apps.map((a) => [a.root, a.appId])).toEqual([['..', 'shop-abcde']]);
    expect(inside.exitCode).toBe(0);
  });

  it('file paths from the repo root: each app once, files outside any app skipped with a warning on stderr', async ({ expect }) => {
    const repo = copyFixture('validate/monorepo');
    const args = ['apps/good/functions/hello.js', 'apps/good/functions/config.json', 'apps/bad/functions/hello.js', 'docs/README.md'];
    const [json, text] = await Promise.all([validateJson(repo, args), fn(['validate', ...args], { cwd: repo })]);
    expect(json.report.apps.map((a) => [a.root, a.functions, a.errors, a.warnings])).toEqual([
      ['apps/good', 1, 0, 0],
      ['apps/bad', 2, 1, 0],
    ]);
    expect(json.report.diagnostics.map(brief)).toEqual([err('missing-source', 3, 13, 'apps/bad/functions/config.json')]);
    expect(json.report.skipped).toEqual(['docs/README.md']);
    expect(json.report.summary).toEqual({ errors: 1, warnings: 0, apps: 2, functions: 3 });
    expect(json.stderr).toBe('');
    expect(json.exitCode).toBe(1);

    expect(text.stderr).toBe('warning docs/README.md belongs to no app; skipped');
    expect(text.stdout.split('\n')[0]).toBe(
      'apps/bad/functions/config.json:3:13  error  missing-source  function "missing" has no source file functions/missing.js',
    );
    expect(text.stdout.split('\n').at(-1)).toBe('✖ 1 problem (1 error, 0 warnings) in 3 functions in 2 apps');
    expect(text.exitCode).toBe(1);
  });

  it('file paths of a good app only: exit 0, the other app is not validated', async ({ expect }) => {
    const repo = copyFixture('validate/monorepo');
    const { exitCode, report } = await validateJson(repo, ['apps/good/functions/hello.js']);
    expect(report.apps.map((a) => a.root)).toEqual(['apps/good']);
    expect(report.diagnostics).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('exit 3 when no path belongs to an app', async ({ expect }) => {
    const r = await fn(['validate', 'docs/README.md'], { cwd: copyFixture('validate/monorepo') });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(
      'error no app found for docs/README.md (looked for fn.config.json or functions/config.json above each)',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// --fix: one { "name" } per orphan, every other byte as it was.
// ---------------------------------------------------------------------------------------------

describe.concurrent('fn validate --fix', () => {
  /** Runs --fix (JSON) over sources a, b and sub/c; with `rerun`, validates again without --fix. */
  async function fix(manifest: string, rerun = false) {
    const dir = makeApp({ [M]: manifest, 'functions/a.js': EXPORTS, 'functions/b.js': EXPORTS, 'functions/sub/c.js': EXPORTS });
    const first = await validateJson(dir, ['--fix']);
    const after = readFileSync(join(dir, M), 'utf8');
    const again = rerun ? await validateJson(dir) : undefined;
    return { dir, first, after, again };
  }

  /** `before` with `inserted` placed right after its last entry: the only change --fix may make. */
  const withInsertion = (before: string, inserted: string) => {
    const at = before.lastIndexOf('}') + 1;
    return before.slice(0, at) + inserted + before.slice(at);
  };

  it('2-space indentation, LF, final newline', async ({ expect }) => {
    const before = '[\n  {\n    "name": "a",\n    "private": true\n  }\n]\n';
    const { first, after, again } = await fix(before, true);
    expect(after).toBe(withInsertion(before, ',\n  {\n    "name": "b"\n  },\n  {\n    "name": "sub/c"\n  }'));
    expect(first.report.apps[0]!.fixed).toEqual(['b', 'sub/c']);
    expect(first.report.diagnostics).toEqual([]);
    expect(first.exitCode).toBe(0);
    expect(again!.report.diagnostics.filter((d) => d.rule === 'orphan-source')).toEqual([]);
    expect(again!.report.apps[0]!.fixed).toEqual([]);
    expect(again!.exitCode).toBe(0);
  });

  it('4-space indentation, CRLF, no final newline (an Atlas export) stays so', async ({ expect }) => {
    const before = '[\r\n    {\r\n        "name": "a",\r\n        "can_evaluate": {}\r\n    }\r\n]';
    const { first, after, again } = await fix(before, true);
    expect(after).toBe(withInsertion(before, ',\r\n    {\r\n        "name": "b"\r\n    },\r\n    {\r\n        "name": "sub/c"\r\n    }'));
    expect(after.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(after.endsWith(']')).toBe(true);
    expect(first.report.apps[0]!.fixed).toEqual(['b', 'sub/c']);
    expect(again!.report.diagnostics).toEqual([]);
    expect(again!.exitCode).toBe(0);
  });

  it('tab indentation stays tabs', async ({ expect }) => {
    const before = '[\n\t{\n\t\t"name": "a"\n\t}\n]\n';
    const { first, after } = await fix(before);
    expect(after).toBe(withInsertion(before, ',\n\t{\n\t\t"name": "b"\n\t},\n\t{\n\t\t"name": "sub/c"\n\t}'));
    expect(first.report.diagnostics).toEqual([]);
  });

  it('a UTF-8 BOM is kept', async ({ expect }) => {
    const before = '\uFEFF[\n  {\n    "name": "a"\n  }\n]\n';
    const { first, after } = await fix(before);
    expect(after).toBe(withInsertion(before, ',\n  {\n    "name": "b"\n  },\n  {\n    "name": "sub/c"\n  }'));
    expect(first.report.diagnostics).toEqual([]);
  });

  it('an empty array gets every source', async ({ expect }) => {
    const { first, after } = await fix('[]\n');
    expect(JSON.parse(after)).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'sub/c' }]);
    expect(after.endsWith(']\n')).toBe(true);
    expect(first.report.apps[0]!.fixed).toEqual(['a', 'b', 'sub/c']);
    expect(first.report.diagnostics).toEqual([]);
  });

  it('an existing one-line entry keeps its bytes; the new ones are only inserted after it', async ({ expect }) => {
    const before = '[\n  {"name": "a", "private": true}\n]\n';
    const { first, after, again } = await fix(before, true);
    const at = before.lastIndexOf('}') + 1;
    expect(after.slice(0, at)).toBe(before.slice(0, at));
    expect(after.slice(after.length - (before.length - at))).toBe(before.slice(at));
    const inserted = after.slice(at, after.length - (before.length - at));
    expect(inserted.startsWith(',')).toBe(true);
    expect(JSON.parse(`[${inserted.slice(1)}]`)).toEqual([{ name: 'b' }, { name: 'sub/c' }]);
    expect(first.report.apps[0]!.fixed).toEqual(['b', 'sub/c']);
    expect(again!.report.diagnostics).toEqual([]);
  });

  it('a source that differs from an entry only in case is left for a human', async ({ expect }) => {
    const before = '[\n  {\n    "name": "A"\n  },\n  {\n    "name": "b"\n  },\n  {\n    "name": "sub/c"\n  }\n]\n';
    const { first, after } = await fix(before);
    expect(after).toBe(before);
    expect(first.report.apps[0]!.fixed).toEqual([]);
    expect(first.report.diagnostics.map((d) => d.rule)).toEqual(['missing-source', 'orphan-source']);
    expect(first.exitCode).toBe(1);
  });

  it('a manifest with a syntax error is not touched', async ({ expect }) => {
    const before = '[\n  { "name": "a" } // keep me\n]\n';
    const { first, after } = await fix(before);
    expect(after).toBe(before);
    expect(first.report.apps[0]!.fixed).toEqual([]);
    expect(first.report.diagnostics.map(brief)).toEqual([err('json-syntax', 2, 19)]);
    expect(first.exitCode).toBe(1);
  });

  it('text mode: what was added goes to stderr, the result to stdout', async ({ expect }) => {
    const dir = makeApp({
      [M]: '[\n  {\n    "name": "a"\n  }\n]\n',
      'functions/a.js': EXPORTS,
      'functions/b.js': EXPORTS,
      'functions/sub/c.js': EXPORTS,
    });
    const r = await fn(['validate', '--fix'], { cwd: dir });
    expect(r).toEqual({
      exitCode: 0,
      stdout: '✔ no problems (3 functions)',
      stderr: '✔ added 2 entries to functions/config.json: b, sub/c',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// --staged: what is in the git index, not the working tree.
// ---------------------------------------------------------------------------------------------

describe.concurrent('fn validate --staged', () => {
  const GOOD = '[\n  { "name": "a" }\n]\n';
  const BROKEN = '[\n  { "name": "a", "private": "yes" }\n]\n';

  it('a good staged manifest passes while the working tree copy is broken', async ({ expect }) => {
    const repo = await gitRepo({ [M]: GOOD, 'functions/a.js': EXPORTS });
    await git(repo, ['add', '-A']);
    writeFileSync(join(repo, M), '[\n  { "name": "a" },\n]\n');
    const [staged, tree] = await Promise.all([validateJson(repo, ['--staged']), validateJson(repo)]);
    expect(staged.report.diagnostics).toEqual([]);
    expect(staged.report.ok).toBe(true);
    expect(staged.exitCode).toBe(0);
    expect(tree.report.diagnostics.map(brief)).toEqual([err('json-syntax', 2, 18)]);
    expect(tree.exitCode).toBe(1);
  });

  it('a broken staged manifest fails while the working tree copy is fixed', async ({ expect }) => {
    const repo = await gitRepo({ [M]: BROKEN, 'functions/a.js': EXPORTS });
    await git(repo, ['add', '-A']);
    writeFileSync(join(repo, M), GOOD);
    const [staged, text, tree] = await Promise.all([
      validateJson(repo, ['--staged']),
      fn(['validate', '--staged'], { cwd: repo }),
      validateJson(repo),
    ]);
    expect(staged.report.diagnostics.map(brief)).toEqual([err('schema', 2, 29)]);
    expect(staged.report.diagnostics[0]!.message).toBe('"private" must be true or false, found the string "yes"');
    expect(staged.exitCode).toBe(1);
    // No code frame under --staged: the working tree line would not be the staged one.
    expect(text.stdout).toBe(
      'functions/config.json:2:29  error  schema  "private" must be true or false, found the string "yes"\n\n✖ 1 problem (1 error, 0 warnings) in 1 function',
    );
    expect(text.exitCode).toBe(1);
    expect(tree.report.diagnostics).toEqual([]);
    expect(tree.exitCode).toBe(0);
  });

  it('an untracked source is not part of the staged app', async ({ expect }) => {
    const repo = await gitRepo({ [M]: GOOD, 'functions/a.js': EXPORTS });
    await git(repo, ['add', '-A']);
    writeFileSync(join(repo, 'functions', 'wip.js'), EXPORTS);
    const [staged, tree] = await Promise.all([validateJson(repo, ['--staged']), validateJson(repo)]);
    expect(staged.report.diagnostics).toEqual([]);
    expect(staged.report.summary.functions).toBe(1);
    expect(tree.report.diagnostics.map(brief)).toEqual([warn('orphan-source', 1, 1, 'functions/wip.js')]);
  });

  it('exit 2 outside a git repository', async ({ expect }) => {
    const dir = makeApp({ [M]: GOOD, 'functions/a.js': EXPORTS });
    const r = await fn(['validate', '--staged'], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error --staged needs a git repository, and .+ is not in one\nhint run fn validate without --staged$/);
  });

  it('an app in a subfolder of the repository, from the repo root (pre-commit)', async ({ expect }) => {
    const repo = await gitRepo({ 'apps/shop/functions/config.json': GOOD, 'apps/shop/functions/a.js': EXPORTS });
    await git(repo, ['add', '-A']);
    const { exitCode, report } = await validateJson(repo, ['--staged', 'apps/shop/functions/config.json']);
    expect(report.diagnostics).toEqual([]);
    expect(report.apps.map((a) => [a.root, a.functions])).toEqual([['apps/shop', 1]]);
    expect(exitCode).toBe(0);
  });

  it('the app id is the same with and without --staged', async ({ expect }) => {
    const repo = await gitRepo({ [M]: GOOD, 'functions/a.js': EXPORTS });
    await git(repo, ['add', '-A']);
    const [staged, tree] = await Promise.all([validateJson(repo, ['--staged']), validateJson(repo)]);
    expect(tree.report.apps[0]!.appId).toBe(basename(repo).toLowerCase());
    expect(staged.report.apps[0]!.appId).toBe(tree.report.apps[0]!.appId);
  });
});

// ---------------------------------------------------------------------------------------------
// --watch: a new NDJSON line for every change, until SIGINT.
// ---------------------------------------------------------------------------------------------

describe('fn validate --watch', () => {
  it('re-validates on every change and stops on SIGINT with exit 130', async ({ expect }) => {
    const dir = copyFixture('validate/clean');
    const child = execa('node', [bin, 'validate', '--watch', '--json'], { cwd: dir, env: { NO_COLOR: '1' }, reject: false });
    const lines: string[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop()!;
      lines.push(...parts);
    });
    const reports = () => lines.map((l) => JSON.parse(l) as Report);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    /** Waits for a report after `from` matching `test`; `poke` re-applies the edit in case the watcher was not ready yet. */
    async function waitFor(from: number, test: (r: Report) => boolean, poke?: () => void, timeoutMs = 8000): Promise<Report> {
      const deadline = Date.now() + timeoutMs;
      let nextPoke = Date.now() + 1500;
      for (;;) {
        const found = reports().slice(from).find(test);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching report within ${timeoutMs} ms; got:\n${lines.join('\n')}`);
        if (poke && Date.now() > nextPoke) {
          poke();
          nextPoke = Date.now() + 1500;
        }
        await sleep(25);
      }
    }

    try {
      const first = await waitFor(0, () => true, undefined, 15_000);
      expect(first.ok).toBe(true);
      expect(first.diagnostics).toEqual([]);
      await sleep(300);

      const n1 = lines.length;
      const addSource = () => writeFileSync(join(dir, 'functions', 'extra.js'), EXPORTS);
      addSource();
      const second = await waitFor(n1, (r) => r.diagnostics.length > 0, addSource);
      expect(second.ok).toBe(true);
      expect(second.diagnostics.map(brief)).toEqual([warn('orphan-source', 1, 1, 'functions/extra.js')]);

      const n2 = lines.length;
      const breakManifest = () =>
        writeFileSync(join(dir, M), '[\n  { "name": "hello" },\n  { "name": "orders/list" },\n  { "name": "extra" },\n]\n');
      breakManifest();
      const third = await waitFor(n2, (r) => !r.ok, breakManifest);
      expect(third.diagnostics.map(brief)).toEqual([err('json-syntax', 4, 22)]);
      expect(third.summary.errors).toBe(1);
    } finally {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const result = await child;
      clearTimeout(timer);
      expect(result.exitCode).toBe(130);
      expect(result.stderr).toBe('');
    }
    // Every stdout line is one JSON document (NDJSON).
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  }, 60_000);

  // chokidar sends no event for a second change of a file within 50 ms of the first: the last
  // report must still be of the last save.
  it('reports the last of two saves of one file made 45 ms apart', async ({ expect }) => {
    const dir = copyFixture('validate/clean');
    const child = execa('node', [bin, 'validate', '--watch', '--json'], { cwd: dir, env: { NO_COLOR: '1' }, reject: false });
    const lines: string[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop()!;
      lines.push(...parts);
    });
    const reports = () => lines.map((l) => JSON.parse(l) as Report);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const good = readFileSync(join(dir, M), 'utf8');
    const bad = '[\n  { "name": "hello" },\n]\n';
    try {
      for (let i = 0; i < 50 && !reports().length; i++) await sleep(100);
      expect(reports()[0]?.ok).toBe(true);
      for (const [first, second, ok] of [
        [bad, good, true],
        [good, bad, false],
        [bad, good, true],
      ] as const) {
        writeFileSync(join(dir, M), first);
        await sleep(45);
        writeFileSync(join(dir, M), second);
        // The last report, once reports stop coming for a while, is of the second save.
        let count = -1;
        for (let i = 0; i < 100 && count !== lines.length; i++) {
          count = lines.length;
          await sleep(400);
        }
        expect(reports().at(-1)?.ok, lines.join('\n')).toBe(ok);
      }
    } finally {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await child;
      clearTimeout(timer);
    }
  }, 60_000);
});
