import { describe, expect, it } from 'vitest';
import {
  appendEntries,
  applyEdit,
  detectFormatting,
  fileBytes,
  removeEntry,
  replaceEntry,
  syncEntries,
} from '../../../src/manifest/edit.js';
import { parseJsonFile } from '../../../src/manifest/json-file.js';
import { insertedText, parseManifest as parse, roundTrip } from './round-trip.js';

const L = (...lines: string[]) => lines.join('\n');

// One entry per shape, written the way real exports and editors write them.
const FOUR = L('[', '    {', '        "name": "a",', '        "private": true', '    },', '    {', '        "name": "b"', '    }', ']', '');
const TWO = L('[', '  {', '    "name": "a"', '  }', ']', '');
const TAB = L('[', '\t{', '\t\t"name": "a"', '\t}', ']', '');
const CRLF = FOUR.replace(/\n/g, '\r\n');
const NO_FINAL_NEWLINE = FOUR.slice(0, -1);
const BOM = '\uFEFF' + FOUR;

describe('detectFormatting', () => {
  it('reads the indentation and line ending a file already uses', () => {
    expect(detectFormatting(TWO)).toEqual({ unit: '  ', eol: '\n' });
    expect(detectFormatting(FOUR)).toEqual({ unit: '    ', eol: '\n' });
    expect(detectFormatting(TAB)).toEqual({ unit: '\t', eol: '\n' });
    expect(detectFormatting(CRLF)).toEqual({ unit: '    ', eol: '\r\n' });
  });

  it('falls back to 4 spaces (the Atlas export style) without indentation or with a very deep one', () => {
    expect(detectFormatting('[]')).toEqual({ unit: '    ', eol: '\n' });
    expect(detectFormatting('[\n          {}\n]')).toEqual({ unit: '    ', eol: '\n' });
  });
});

describe('appendEntries', () => {
  it("appends after the last entry in the file's 4-space style", () => {
    expect(appendEntries(parse(FOUR), [{ name: 'x' }])).toBe(
      L(
        '[',
        '    {',
        '        "name": "a",',
        '        "private": true',
        '    },',
        '    {',
        '        "name": "b"',
        '    },',
        '    {',
        '        "name": "x"',
        '    }',
        ']',
        '',
      ),
    );
  });

  it('keeps 2-space and tab indentation', () => {
    expect(appendEntries(parse(TWO), [{ name: 'x', private: true }])).toBe(
      L('[', '  {', '    "name": "a"', '  },', '  {', '    "name": "x",', '    "private": true', '  }', ']', ''),
    );
    expect(appendEntries(parse(TAB), [{ name: 'x' }])).toBe(
      L('[', '\t{', '\t\t"name": "a"', '\t},', '\t{', '\t\t"name": "x"', '\t}', ']', ''),
    );
  });

  it('writes CRLF into a CRLF file', () => {
    expect(appendEntries(parse(CRLF), [{ name: 'x' }])).toBe(
      L(
        '[',
        '    {',
        '        "name": "a",',
        '        "private": true',
        '    },',
        '    {',
        '        "name": "b"',
        '    },',
        '    {',
        '        "name": "x"',
        '    }',
        ']',
        '',
      ).replace(/\n/g, '\r\n'),
    );
  });

  it('keeps a missing final newline missing, and a BOM', () => {
    expect(appendEntries(parse(NO_FINAL_NEWLINE), [{ name: 'x' }]).endsWith('    },\n    {\n        "name": "x"\n    }\n]')).toBe(true);
    const withBom = appendEntries(parse(BOM), [{ name: 'x' }]);
    expect(withBom.startsWith('\uFEFF[\n    {\n')).toBe(true);
    expect(withBom.slice(1)).toBe(appendEntries(parse(FOUR), [{ name: 'x' }]));
  });

  it('fills an empty array', () => {
    expect(appendEntries(parse('[]\n'), [{ name: 'x' }])).toBe(L('[', '    {', '        "name": "x"', '    }', ']', ''));
    expect(appendEntries(parse('[]'), [{ name: 'x' }])).toBe(L('[', '    {', '        "name": "x"', '    }', ']'));
  });

  it('appends several entries in order, nested values indented', () => {
    expect(appendEntries(parse(TWO), [{ name: 'x' }, { name: 'y', can_evaluate: { '%%user.id': 'u' } }])).toBe(
      L(
        '[',
        '  {',
        '    "name": "a"',
        '  },',
        '  {',
        '    "name": "x"',
        '  },',
        '  {',
        '    "name": "y",',
        '    "can_evaluate": {',
        '      "%%user.id": "u"',
        '    }',
        '  }',
        ']',
        '',
      ),
    );
  });

  it('returns the text unchanged for no entries', () => {
    expect(appendEntries(parse(BOM), [])).toBe(BOM);
  });

  it('refuses a manifest that is not an array', () => {
    expect(() => appendEntries(parse('{}'), [{ name: 'x' }])).toThrow('the manifest is not an array');
  });
});

describe('removeEntry', () => {
  const THREE = L(
    '[',
    '    {',
    '        "name": "a"',
    '    },',
    '    {',
    '        "name": "b"',
    '    },',
    '    {',
    '        "name": "c"',
    '    }',
    ']',
    '',
  );

  it('removes the first, a middle and the last entry, leaving the others as they were', () => {
    expect(removeEntry(parse(THREE), 0)).toBe(
      L('[', '    {', '        "name": "b"', '    },', '    {', '        "name": "c"', '    }', ']', ''),
    );
    expect(removeEntry(parse(THREE), 1)).toBe(
      L('[', '    {', '        "name": "a"', '    },', '    {', '        "name": "c"', '    }', ']', ''),
    );
    expect(removeEntry(parse(THREE), 2)).toBe(
      L('[', '    {', '        "name": "a"', '    },', '    {', '        "name": "b"', '    }', ']', ''),
    );
  });

  it('keeps CRLF when removing the first or a middle entry', () => {
    const crlf = THREE.replace(/\n/g, '\r\n');
    expect(removeEntry(parse(crlf), 0)).toBe(removeEntry(parse(THREE), 0).replace(/\n/g, '\r\n'));
    expect(removeEntry(parse(crlf), 1)).toBe(removeEntry(parse(THREE), 1).replace(/\n/g, '\r\n'));
  });

  // jsonc-parser 3.3.1 removes the last array item up to `parentEnd - 2`, i.e. it keeps exactly one
  // character before ']': in a CRLF file that is the '\n', so the '\r' is lost.
  it('keeps CRLF when removing the last entry (jsonc-parser 3.3.1 drops the CR before "]")', () => {
    const crlf = THREE.replace(/\n/g, '\r\n');
    expect(removeEntry(parse(crlf), 2)).toBe(removeEntry(parse(THREE), 2).replace(/\n/g, '\r\n'));
  });

  it('empties a one-entry file to [] and keeps a BOM', () => {
    expect(removeEntry(parse(TWO), 0)).toBe('[]\n');
    expect(removeEntry(parse('\uFEFF' + TWO), 0)).toBe('\uFEFF[]\n');
    expect(removeEntry(parse(TWO.replace(/\n/g, '\r\n')), 0)).toBe('[]\r\n');
  });

  // Same jsonc-parser off-by-one: with no whitespace before ']' the character it keeps is the last
  // character of the removed entry, here its '}'.
  it('removing the last entry of a compact file leaves valid JSON (jsonc-parser 3.3.1 leaves a stray "}")', () => {
    const out = removeEntry(parse('[{"name":"a"},{"name":"b"}]'), 1);
    expect(JSON.parse(out)).toEqual([{ name: 'a' }]);
  });

  it('removing an entry leaves an inline neighbour on its own line untouched', () => {
    const text = L('[', '    { "name": "a" },', '    { "name": "b", "private": true }', ']', '');
    expect(removeEntry(parse(text), 0)).toBe(L('[', '    { "name": "b", "private": true }', ']', ''));
  });
});

describe('replaceEntry', () => {
  it('rewrites one entry in its own style and leaves every other byte', () => {
    expect(replaceEntry(parse(FOUR), 0, { name: 'a', private: false })).toBe(FOUR.replace('"private": true', '"private": false'));
    expect(replaceEntry(parse(CRLF), 0, { name: 'a', private: false })).toBe(CRLF.replace('"private": true', '"private": false'));
    expect(replaceEntry(parse(BOM), 0, { name: 'a', private: false })).toBe(BOM.replace('"private": true', '"private": false'));
    expect(replaceEntry(parse(TAB), 0, { name: 'a', private: true })).toBe(
      L('[', '\t{', '\t\t"name": "a",', '\t\t"private": true', '\t}', ']', ''),
    );
    expect(replaceEntry(parse(NO_FINAL_NEWLINE), 1, { name: 'b', private: true }).endsWith('        "private": true\n    }\n]')).toBe(true);
  });

  it('keeps an inline entry inline', () => {
    const inline = L('[', '    { "name": "a" },', '    { "name": "b", "private": true }', ']', '');
    expect(replaceEntry(parse(inline), 1, { name: 'b' })).toBe(L('[', '    { "name": "a" },', '    { "name": "b" }', ']', ''));
  });
});

describe('append then remove gives the original bytes back', () => {
  const shapes: [string, string][] = [
    ['4 spaces', FOUR],
    ['2 spaces', TWO],
    ['tabs', TAB],
    ['no final newline', NO_FINAL_NEWLINE],
    ['BOM', BOM],
    ['[] with a newline', '[]\n'],
    ['[] without a newline', '[]'],
    ['one entry', L('[', '    {', '        "name": "only"', '    }', ']', '')],
    [
      'every field, nested can_evaluate',
      L(
        '[',
        '    {',
        '        "name": "a",',
        '        "private": false,',
        '        "can_evaluate": {',
        '            "%%user.data.role": { "$in": ["admin"] }',
        '        },',
        '        "disable_arg_logs": true,',
        '        "run_as_system": false,',
        '        "run_as_user_id": "",',
        '        "run_as_user_id_script_source": ""',
        '    }',
        ']',
        '',
      ),
    ],
    ['unknown fields kept', L('[', '  {', '    "name": "a",', '    "x-note": [1, 2]', '  }', ']', '')],
    ['blank lines between entries', L('[', '    {', '        "name": "a"', '    },', '', '    {', '        "name": "b"', '    }', ']', '')],
  ];

  it.each(shapes)('%s', (_label, raw) => {
    const rt = roundTrip(raw);
    expect(rt.restored).toBe(raw);
    const inserted = insertedText(rt);
    expect(inserted.replace(/\s+/g, '')).toBe(rt.insertAt > 1 ? ',{"name":"x"}' : '{"name":"x"}');
  });

  it('CRLF (jsonc-parser 3.3.1 drops the CR before "]" when removing the last entry)', () => {
    expect(roundTrip(CRLF).restored).toBe(CRLF);
  });

  it('a closing "]" that is indented (the removal re-indents it)', () => {
    const raw = L('[', '    {', '      "name": "a"', '    }', '  ]');
    expect(roundTrip(raw).restored).toBe(raw);
  });

  it('a last entry whose "}" is indented unlike the rest (the append re-indents that line)', () => {
    const raw = L('[', '    {', '        "name": "a"', '      }', ']', '');
    const rt = roundTrip(raw);
    expect(() => insertedText(rt)).not.toThrow();
    expect(rt.restored).toBe(raw);
  });

  it('a compact one-line file (the append reformats the entries already there)', () => {
    const raw = '[{"name":"a"}]\n';
    const rt = roundTrip(raw);
    expect(() => insertedText(rt)).not.toThrow();
    expect(rt.restored).toBe(raw);
  });

  it('inline entries (the append reformats the previous last entry)', () => {
    const raw = L('[', '    { "name": "a" },', '    { "name": "b", "private": true }', ']', '');
    const rt = roundTrip(raw);
    expect(() => insertedText(rt)).not.toThrow();
    expect(rt.restored).toBe(raw);
  });

  // Not a bug to fix: `[ ]`, `[\n]` and `[]` all append to the same text, so the removal cannot know
  // which one it came from. Pinned so a change is noticed.
  it('an empty array with whitespace inside comes back as []', () => {
    expect(roundTrip('[ ]\n').restored).toBe('[]\n');
    expect(roundTrip('[\n]\n').restored).toBe('[]\n');
    expect(roundTrip('[ ]\n').appended).toBe(roundTrip('[]\n').appended);
  });
});

describe('syncEntries and applyEdit', () => {
  const file = (text: string) => parseJsonFile('/x/functions/config.json', 'functions/config.json', text);

  it('removes, replaces and appends by name in one pass, keeping the BOM, CRLF and the untouched bytes', () => {
    const raw =
      '\uFEFF[\r\n    {\r\n        "name": "a"\r\n    },\r\n    {\r\n        "name": "b",\r\n        "private": true\r\n    },\r\n    { "name": "keep" }\r\n]\r\n';
    const wanted: Record<string, Record<string, unknown> | undefined> = { a: undefined, b: { name: 'b' }, c: { name: 'c', private: true } };
    const { file: out, changed } = syncEntries(file(raw), ['a', 'b', 'c'], (n) => wanted[n]);
    expect(changed).toBe(true);
    const bytes = fileBytes(out);
    expect(bytes.startsWith('\uFEFF')).toBe(true);
    expect(bytes).toContain('{ "name": "keep" }');
    expect(bytes.replace(/\r\n/g, '')).not.toMatch(/\n/);
    expect(JSON.parse(bytes.slice(1))).toEqual([{ name: 'b' }, { name: 'keep' }, { name: 'c', private: true }]);
  });

  it('changes nothing, byte for byte, when every entry is already what is wanted or absent and unwanted', () => {
    const raw = '[\n  { "name": "a" }\n]\n';
    const { file: out, changed } = syncEntries(file(raw), ['zzz'], () => undefined);
    expect(changed).toBe(false);
    expect(fileBytes(out)).toBe(raw);
  });

  it('applyEdit parses the result again, so a second edit sees the first', () => {
    const once = applyEdit(file('[{"name":"a"},{"name":"b"}]'), { remove: 0 });
    expect(once.value).toEqual([{ name: 'b' }]);
    expect(applyEdit(once, { append: [{ name: 'z' }] }).value).toEqual([{ name: 'b' }, { name: 'z' }]);
  });
});
