import { describe, expect, it } from 'vitest';
import { checkName, nameFromSourcePath, sourcePathOf, SOURCE_EXTENSION } from '../../../src/manifest/names.js';

describe('checkName: good names', () => {
  it.each(['a', 'reports/monthly', 'a-b_c/D9', 'calculateTotal', 'endpoint/hello/latest', 'mongodbCrud_deleteOne', '_', '-', '9'])(
    '%s gives []',
    (name) => {
      expect(checkName(name)).toEqual([]);
    },
  );
});

describe('checkName: invalid names', () => {
  it('an empty segment', () => {
    expect(checkName('a//b')).toEqual([{ rule: 'invalid-name', message: `function name "a//b" has an empty segment ('//')` }]);
  });

  it('the empty name is invalid', () => {
    expect(checkName('').map((p) => p.rule)).toEqual(['invalid-name']);
  });

  it.each([
    ['.', `function name "." has a '.' segment`],
    ['..', `function name ".." has a '..' segment`],
    ['a/./b', `function name "a/./b" has a '.' segment`],
    ['a/../b', `function name "a/../b" has a '..' segment`],
    ['../etc/passwd', `function name "../etc/passwd" has a '..' segment`],
  ])('a dot segment: %s', (name, message) => {
    expect(checkName(name)).toEqual([
      { rule: 'invalid-name', message, hint: 'a name is a path inside functions/ and cannot step out of it' },
    ]);
  });

  it('a leading /', () => {
    expect(checkName('/a/b')).toEqual([{ rule: 'invalid-name', message: `function name "/a/b" has a leading '/'`, hint: 'use "a/b"' }]);
  });

  it('a trailing /', () => {
    expect(checkName('a/b/')).toEqual([{ rule: 'invalid-name', message: `function name "a/b/" has a trailing '/'`, hint: 'use "a/b"' }]);
  });

  it('leading and trailing / at once: reported as leading, the hint strips both', () => {
    expect(checkName('//a//')).toEqual([{ rule: 'invalid-name', message: `function name "//a//" has a leading '/'`, hint: 'use "a"' }]);
  });

  it('a backslash, with the forward-slash name as the hint', () => {
    expect(checkName('reports\\monthly')).toEqual([
      {
        rule: 'invalid-name',
        message: 'function name "reports\\\\monthly" contains a backslash',
        hint: `names always use '/' between folders: "reports/monthly"`,
      },
    ]);
  });

  it.each([
    ['NUL', 'a\u0000b', '"a\\u0000b"'],
    ['tab', 'a\tb', '"a\\tb"'],
    ['newline', 'a\n', '"a\\n"'],
    ['carriage return', '\rb', '"\\rb"'],
    ['unit separator', 'a\u001fb', '"a\\u001fb"'],
    ['DEL', 'a\u007f', '"a\u007f"'],
    ['C1 control', 'a\u0085b', '"a\u0085b"'],
    ['last C1 control', '\u009fb', '"\u009fb"'],
  ])('a control character (%s)', (_label, name, quoted) => {
    expect(checkName(name)).toEqual([{ rule: 'invalid-name', message: `function name ${quoted} contains a control character` }]);
  });

  it('stops at the first problem: a backslash wins over a control character and slashes', () => {
    expect(checkName('/a\\\tb').map((p) => p.message)).toEqual(['function name "/a\\\\\\tb" contains a backslash']);
  });
});

describe('checkName: names that are not portable (warnings)', () => {
  const PORTABLE_HINT = 'use letters, digits, "_" and "-" so the name works in URLs, file systems and generated types';

  it('a space', () => {
    expect(checkName('my func')).toEqual([
      {
        rule: 'name-not-portable',
        message: 'function name "my func" has characters outside [A-Za-z0-9_-] in "my func"',
        hint: PORTABLE_HINT,
      },
    ]);
  });

  it('dots inside a segment, naming every odd segment', () => {
    expect(checkName('v1.2/get.all/ok')).toEqual([
      {
        rule: 'name-not-portable',
        message: 'function name "v1.2/get.all/ok" has characters outside [A-Za-z0-9_-] in "v1.2", "get.all"',
        hint: PORTABLE_HINT,
      },
    ]);
  });

  it('an emoji and non-ASCII letters', () => {
    expect(checkName('🚀launch')).toEqual([
      {
        rule: 'name-not-portable',
        message: 'function name "🚀launch" has characters outside [A-Za-z0-9_-] in "🚀launch"',
        hint: PORTABLE_HINT,
      },
    ]);
    expect(checkName('café').map((p) => p.rule)).toEqual(['name-not-portable']);
  });

  it('a .js suffix: the hint gives the name without it', () => {
    expect(checkName('reports/monthly.js')).toEqual([
      {
        rule: 'name-not-portable',
        message: 'function name "reports/monthly.js" has characters outside [A-Za-z0-9_-] in "monthly.js"',
        hint: 'names do not include the extension: "reports/monthly"',
      },
    ]);
  });
});

describe('nameFromSourcePath / sourcePathOf', () => {
  it('drops .js and keeps / between folders', () => {
    expect(nameFromSourcePath('sum.js')).toBe('sum');
    expect(nameFromSourcePath('reports/monthly.js')).toBe('reports/monthly');
    expect(nameFromSourcePath('a/b/c.js')).toBe('a/b/c');
  });

  it('turns Windows backslashes into /', () => {
    expect(nameFromSourcePath('reports\\monthly.js')).toBe('reports/monthly');
    expect(nameFromSourcePath('a\\b/c.js')).toBe('a/b/c');
  });

  it('sourcePathOf is the inverse', () => {
    expect(SOURCE_EXTENSION).toBe('.js');
    expect(sourcePathOf('reports/monthly')).toBe('reports/monthly.js');
    expect(nameFromSourcePath(sourcePathOf('a-b_c/D9'))).toBe('a-b_c/D9');
  });
});
