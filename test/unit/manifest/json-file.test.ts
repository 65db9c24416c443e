import { describe, expect, it } from 'vitest';
import { locate, parseJsonFile } from '../../../src/manifest/json-file.js';

const parse = (raw: string) => parseJsonFile('/app/functions/config.json', 'functions/config.json', raw);
const errors = (raw: string) => parse(raw).syntaxErrors.map(({ line, column, message }) => ({ line, column, message }));

describe('parseJsonFile: good JSON', () => {
  it('keeps the paths, the text, the value and a tree', () => {
    const f = parse('[\n  {"name": "a"}\n]\n');
    expect(f.path).toBe('/app/functions/config.json');
    expect(f.relPath).toBe('functions/config.json');
    expect(f.text).toBe('[\n  {"name": "a"}\n]\n');
    expect(f.value).toEqual([{ name: 'a' }]);
    expect(f.syntaxErrors).toEqual([]);
    expect(f.tree?.type).toBe('array');
    expect(f.bom).toBe(false);
    expect(f.eol).toBe('\n');
    expect(f.lines.lineCount).toBe(4);
  });

  it('strips a UTF-8 BOM from the text, flags it, and keeps positions relative to the text', () => {
    const f = parse('\uFEFF[\n  {"name": "a"}\n]');
    expect(f.bom).toBe(true);
    expect(f.text).toBe('[\n  {"name": "a"}\n]');
    expect(f.value).toEqual([{ name: 'a' }]);
    expect(f.syntaxErrors).toEqual([]);
    expect(locate(f, [0])).toEqual({ line: 2, column: 3 });
    expect(locate(f, [])).toEqual({ line: 1, column: 1 });
  });

  it('detects CRLF line endings and parses the file', () => {
    const f = parse('[\r\n  {"name": "a"}\r\n]\r\n');
    expect(f.eol).toBe('\r\n');
    expect(f.value).toEqual([{ name: 'a' }]);
    expect(locate(f, [0, 'name'])).toEqual({ line: 2, column: 12 });
  });

  it('says LF for a one-line file', () => {
    expect(parse('[]').eol).toBe('\n');
  });
});

describe('parseJsonFile: syntax errors', () => {
  it('reports a line comment where it starts', () => {
    expect(errors('[\n  // the sum\n  {"name": "a"}\n]')).toEqual([{ line: 2, column: 3, message: 'comments are not allowed in JSON' }]);
  });

  it('reports a block comment where it starts', () => {
    expect(errors('[\n  {"name": "a"} /* x */\n]')).toEqual([{ line: 2, column: 17, message: 'comments are not allowed in JSON' }]);
  });

  it('points a trailing comma in an object at the comma', () => {
    expect(errors('[\n  {"name": "a",}\n]')).toEqual([{ line: 2, column: 15, message: 'trailing commas are not allowed in JSON' }]);
  });

  it('points a trailing comma in an array at the comma, across whitespace and blank lines', () => {
    expect(errors('[\n  {"name": "a"},\n]')).toEqual([{ line: 2, column: 16, message: 'trailing commas are not allowed in JSON' }]);
    expect(errors('[\n  {"name": "a"}  ,  \n\n]')).toEqual([{ line: 2, column: 18, message: 'trailing commas are not allowed in JSON' }]);
  });

  it('points at the trailing comma in a CRLF file', () => {
    expect(errors('[\r\n  {"name": "a"},\r\n]\r\n')).toEqual([{ line: 2, column: 16, message: 'trailing commas are not allowed in JSON' }]);
  });

  it('counts columns after a BOM from the first character of the text', () => {
    expect(errors('\uFEFF[1,]')).toEqual([{ line: 1, column: 3, message: 'trailing commas are not allowed in JSON' }]);
  });

  it('reports an empty or blank file once, at 1:1', () => {
    const message = 'the file is empty; a JSON value is expected';
    expect(errors('')).toEqual([{ line: 1, column: 1, message }]);
    expect(errors('  \n\t\n')).toEqual([{ line: 1, column: 1, message }]);
    expect(errors('\uFEFF')).toEqual([{ line: 1, column: 1, message }]);
  });

  it('explains other mistakes in words', () => {
    expect(errors('[1 2]')).toEqual([{ line: 1, column: 4, message: "',' is expected here" }]);
    expect(errors('{"a" 1}')).toEqual([{ line: 1, column: 6, message: "':' is expected here" }]);
    expect(errors('["a\tb"]')).toEqual([
      { line: 1, column: 2, message: 'invalid character in a string (control characters must be escaped)' },
    ]);
    expect(errors('[1,\n')).toEqual([{ line: 2, column: 1, message: 'a value is expected here' }]);
  });

  it('reports an unquoted key', () => {
    expect(errors('[{name: "a"}]')[0]).toEqual({ line: 1, column: 3, message: 'unexpected character' });
  });

  it('keeps no tree and no value when there are errors', () => {
    const f = parse('[1,]');
    expect(f.tree).toBeUndefined();
    expect(f.value).toBeUndefined();
    expect(locate(f, [0])).toEqual({ line: 1, column: 1 });
  });

  it('keeps one error per offset and records the offset', () => {
    const f = parse('[\n  {"name": "a",}\n]');
    expect(f.syntaxErrors).toEqual([{ offset: 16, line: 2, column: 15, message: 'trailing commas are not allowed in JSON' }]);
  });
});

describe('locate', () => {
  const f = parse(['[', '  {', '    "name": "a",', '    "nested": {"x": [1, {"y": true}]}', '  },', '  {"name": "b"}', ']', ''].join('\n'));

  it('finds values', () => {
    expect(locate(f, [0, 'name'])).toEqual({ line: 3, column: 13 });
    expect(locate(f, [1, 'name'])).toEqual({ line: 6, column: 12 });
    expect(locate(f, [0])).toEqual({ line: 2, column: 3 });
    expect(locate(f, [1])).toEqual({ line: 6, column: 3 });
  });

  it('finds property names with key: true', () => {
    expect(locate(f, [0, 'name'], { key: true })).toEqual({ line: 3, column: 5 });
    expect(locate(f, [0, 'nested'], { key: true })).toEqual({ line: 4, column: 5 });
  });

  it('finds nested values and keys', () => {
    expect(locate(f, [0, 'nested'])).toEqual({ line: 4, column: 15 });
    expect(locate(f, [0, 'nested', 'x'])).toEqual({ line: 4, column: 21 });
    expect(locate(f, [0, 'nested', 'x', 0])).toEqual({ line: 4, column: 22 });
    expect(locate(f, [0, 'nested', 'x', 1, 'y'])).toEqual({ line: 4, column: 31 });
    expect(locate(f, [0, 'nested', 'x', 1, 'y'], { key: true })).toEqual({ line: 4, column: 26 });
  });

  it('points an array item at its value even with key: true', () => {
    expect(locate(f, [0, 'nested', 'x', 1], { key: true })).toEqual({ line: 4, column: 25 });
  });

  it('falls back to the nearest parent that exists', () => {
    expect(locate(f, [0, 'private'])).toEqual({ line: 2, column: 3 });
    expect(locate(f, [0, 'private'], { key: true })).toEqual({ line: 2, column: 3 });
    expect(locate(f, [0, 'missing', 'deeper', 3])).toEqual({ line: 2, column: 3 });
    expect(locate(f, [0, 'nested', 'x', 1, 'z'])).toEqual({ line: 4, column: 25 });
    expect(locate(f, [7, 'name'])).toEqual({ line: 1, column: 1 });
    expect(locate(f, [])).toEqual({ line: 1, column: 1 });
  });
});
