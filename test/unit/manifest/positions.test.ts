import { describe, expect, it } from 'vitest';
import { LineIndex } from '../../../src/manifest/positions.js';

const pos = (text: string, offset: number) => new LineIndex(text).position(offset);

describe('LineIndex.position', () => {
  it('maps offsets in LF text, at line starts, line ends and the end of the text', () => {
    const text = 'ab\ncd\n\nef';
    expect(pos(text, 0)).toEqual({ line: 1, column: 1 });
    expect(pos(text, 1)).toEqual({ line: 1, column: 2 });
    expect(pos(text, 2)).toEqual({ line: 1, column: 3 }); // the '\n' ends line 1
    expect(pos(text, 3)).toEqual({ line: 2, column: 1 });
    expect(pos(text, 5)).toEqual({ line: 2, column: 3 });
    expect(pos(text, 6)).toEqual({ line: 3, column: 1 }); // the empty line
    expect(pos(text, 7)).toEqual({ line: 4, column: 1 });
    expect(pos(text, 9)).toEqual({ line: 4, column: 3 }); // one past the last character
  });

  it('counts CRLF as one line ending, both of its characters on the line it ends', () => {
    const text = 'ab\r\ncd\r\n';
    expect(pos(text, 2)).toEqual({ line: 1, column: 3 }); // '\r'
    expect(pos(text, 3)).toEqual({ line: 1, column: 4 }); // '\n'
    expect(pos(text, 4)).toEqual({ line: 2, column: 1 });
    expect(pos(text, 6)).toEqual({ line: 2, column: 3 });
    expect(pos(text, 8)).toEqual({ line: 3, column: 1 });
    expect(new LineIndex(text).lineCount).toBe(3);
  });

  it('counts a lone CR as a line ending', () => {
    const text = 'ab\rcd\re';
    expect(pos(text, 2)).toEqual({ line: 1, column: 3 });
    expect(pos(text, 3)).toEqual({ line: 2, column: 1 });
    expect(pos(text, 6)).toEqual({ line: 3, column: 1 });
    expect(new LineIndex(text).lineCount).toBe(3);
  });

  it('handles mixed endings: CR CR LF is two line endings, not three', () => {
    const index = new LineIndex('a\r\r\nb\nc');
    expect(index.lineCount).toBe(4);
    expect(index.position(1)).toEqual({ line: 1, column: 2 });
    expect(index.position(2)).toEqual({ line: 2, column: 1 });
    expect(index.position(4)).toEqual({ line: 3, column: 1 });
    expect(index.position(6)).toEqual({ line: 4, column: 1 });
  });

  it('gives 1:1 for the empty text and counts columns in UTF-16 units', () => {
    expect(pos('', 0)).toEqual({ line: 1, column: 1 });
    expect(new LineIndex('').lineCount).toBe(1);
    // '😀' is two UTF-16 units, as editors and TypeScript count columns.
    expect(pos('x\n😀y', 4)).toEqual({ line: 2, column: 3 });
  });
});

describe('LineIndex.lineText', () => {
  it('returns each line without its ending, for LF, CRLF and CR', () => {
    const lf = new LineIndex('one\ntwo\n');
    expect([lf.lineText(1), lf.lineText(2), lf.lineText(3)]).toEqual(['one', 'two', '']);
    const crlf = new LineIndex('one\r\ntwo\r\nthree');
    expect([crlf.lineText(1), crlf.lineText(2), crlf.lineText(3)]).toEqual(['one', 'two', 'three']);
    const cr = new LineIndex('one\rtwo\r');
    expect([cr.lineText(1), cr.lineText(2), cr.lineText(3)]).toEqual(['one', 'two', '']);
  });

  it('keeps inner whitespace and returns "" for lines that do not exist', () => {
    const index = new LineIndex('  a \t\nb');
    expect(index.lineText(1)).toBe('  a \t');
    expect(index.lineText(0)).toBe('');
    expect(index.lineText(3)).toBe('');
    expect(index.lineText(-1)).toBe('');
  });

  it('keeps the text it was built from', () => {
    expect(new LineIndex('x\ny').text).toBe('x\ny');
  });
});
