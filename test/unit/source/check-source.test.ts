import { describe, expect, it } from 'vitest';
import { checkScriptSource, checkSource, parseScript } from '../../../src/source/check-source.js';

const MODULE_HINT = 'replace module.exports with exports = function (...) { ... }: module is undefined in App Services';
const EXPORTS_HINT = 'write exports = function (args) { ... }';

describe('checkSource: the Atlas form passes', () => {
  it.each([
    ['exports = function', 'exports = function (a) { return a; };\n'],
    ['exports = async function', 'exports = async function ({ items }) {\n  return items.length;\n};\n'],
    ['arrow', 'exports = (x) => x * 2;\n'],
    ['async arrow', 'exports = async () => ({ ok: true });\n'],
    ['named function assigned later', 'function f() { return 1; }\nexports = f;\n'],
    ['hashbang', '#!/usr/bin/env node\nexports = function () {};\n'],
    [
      'comments and helpers around',
      '// sums\nconst add = (a, b) => a + b;\n/* main */\nexports = function ({ a, b }) { return add(a, b); };\n',
    ],
    [
      'require inside the function',
      'exports = function () {\n  const _ = require("lodash");\n  const h = require("./helper");\n  return _.sum(h);\n};\n',
    ],
    ['require inside a nested arrow', 'exports = async () => {\n  const load = () => require("x");\n  return load();\n};\n'],
  ])('%s', (_label, text) => {
    expect(checkSource(text)).toEqual([]);
  });
});

describe('checkSource: no-exports', () => {
  it('module.exports: names module and points at the assignment', () => {
    expect(checkSource('// helper\nmodule.exports = function () {};\n')).toEqual([
      {
        rule: 'no-exports',
        line: 2,
        column: 1,
        message: 'the file assigns module.exports, which App Services does not provide',
        hint: MODULE_HINT,
      },
    ]);
  });

  it('module["exports"] counts as module.exports', () => {
    expect(checkSource('module["exports"] = () => 1;').map((p) => [p.rule, p.hint])).toEqual([['no-exports', MODULE_HINT]]);
  });

  it('no assignment at all', () => {
    expect(checkSource('function main() { return 1; }\n')).toEqual([
      { rule: 'no-exports', line: 1, column: 1, message: 'the file never assigns a function to exports', hint: EXPORTS_HINT },
    ]);
  });

  it('an empty file', () => {
    expect(checkSource('').map((p) => p.message)).toEqual(['the file never assigns a function to exports']);
  });

  it('exports = {} and other values that are not functions, at the assignment', () => {
    expect(checkSource('\n\n  exports = {};\n')).toEqual([
      { rule: 'no-exports', line: 3, column: 3, message: 'the value assigned to exports is not a function', hint: EXPORTS_HINT },
    ]);
    for (const value of ['"x"', '42', '[]', '`t`', 'null']) {
      expect(checkSource(`exports = ${value};`).map((p) => p.message)).toEqual(['the value assigned to exports is not a function']);
    }
  });

  it('exports.main = ... is not the Atlas form', () => {
    expect(checkSource('exports.main = function () {};').map((p) => p.rule)).toEqual(['no-exports']);
  });
});

describe('checkSource: source-syntax', () => {
  it('reports the error with its 1-based line and column', () => {
    expect(checkSource('exports = function () {\n  return 1 +;\n};\n')).toEqual([
      {
        rule: 'source-syntax',
        message: 'syntax error: Unexpected token',
        line: 2,
        column: 13,
        hint: 'function files are plain scripts (no import/export statements)',
      },
    ]);
  });

  it('rejects ES module syntax', () => {
    expect(checkSource('export default function () {}\n')).toEqual([
      {
        rule: 'source-syntax',
        message: "syntax error: 'import' and 'export' may appear only with 'sourceType: module'",
        line: 1,
        column: 1,
        hint: 'function files are plain scripts (no import/export statements)',
      },
    ]);
  });

  it('reports an unterminated string where it starts', () => {
    expect(checkSource('exports = () => "abc\n').map((p) => [p.rule, p.line, p.column])).toEqual([['source-syntax', 1, 17]]);
  });
});

describe('checkSource: top-level-require', () => {
  it('a relative require outside the function', () => {
    expect(checkSource('const h = require("./helper");\nexports = function () { return h(); };\n')).toEqual([
      {
        rule: 'top-level-require',
        line: 1,
        column: 11,
        message:
          'require("./helper") outside the function: App Services deploys each function file alone, so relative requires do not resolve',
        hint: 'share code through context.functions.execute("<name>") or an npm package',
      },
    ]);
  });

  it('a ../ require is relative too', () => {
    expect(checkSource('require("../lib");\nexports = () => 1;').map((p) => p.hint)).toEqual([
      'share code through context.functions.execute("<name>") or an npm package',
    ]);
  });

  it('a package require outside the function', () => {
    expect(checkSource('const _ = require("lodash");\nexports = function () {};\n')).toEqual([
      {
        rule: 'top-level-require',
        line: 1,
        column: 11,
        message: 'require("lodash") outside the function: App Services resolves require only inside the function body',
        hint: 'move the require into the exported function',
      },
    ]);
  });

  it('a require with a computed argument', () => {
    expect(checkSource('const n = "x";\nrequire(n);\nexports = () => 1;').map((p) => [p.line, p.column, p.message])).toEqual([
      [2, 1, 'require(…) outside the function: App Services resolves require only inside the function body'],
    ]);
  });

  it('comes after no-exports when both apply', () => {
    expect(checkSource('const x = require("./x");\nmodule.exports = x;').map((p) => p.rule)).toEqual(['no-exports', 'top-level-require']);
  });
});

describe('checkScriptSource (run_as_user_id_script_source)', () => {
  it('accepts a script that assigns exports', () => {
    expect(checkScriptSource('exports = () => "id"')).toBeUndefined();
    expect(checkScriptSource('exports = function () { return { runAsSystem: true }; }')).toBeUndefined();
  });

  it('accepts a bare function expression', () => {
    expect(checkScriptSource('function () { return "x" }')).toBeUndefined();
    expect(checkScriptSource('async () => "x"')).toBeUndefined();
  });

  it('accepts a bare expression ending in a line comment', () => {
    expect(checkScriptSource('function () { return "x" } // the id')).toBeUndefined();
  });

  it('rejects broken text with the position of the script parse error', () => {
    expect(checkScriptSource('function () { return ')).toEqual({ message: 'Unexpected token', line: 1, column: 10 });
    expect(checkScriptSource('}{')).toEqual({ message: 'Unexpected token', line: 1, column: 1 });
    expect(checkScriptSource('exports = () => {\n  return "a" +;\n}')).toEqual({ message: 'Unexpected token', line: 2, column: 15 });
  });
});

describe('parseScript', () => {
  it('returns the program or a 1-based error position without acorn\'s "(line:col)" suffix', () => {
    expect('program' in parseScript('exports = 1;')).toBe(true);
    expect(parseScript('let = ;')).toEqual({ error: { message: 'Unexpected token', line: 1, column: 7 } });
  });
});
