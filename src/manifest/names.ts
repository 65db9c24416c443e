// Function names: a path under functions/ without .js, always with '/'.

export const SOURCE_EXTENSION = '.js';
const PORTABLE_SEGMENT = /^[A-Za-z0-9_-]+$/;
// C0 and C1 control characters and DEL.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface NameProblem {
  rule: 'invalid-name' | 'name-not-portable';
  message: string;
  hint?: string;
}

/** The function name of a source path relative to functions/ (either separator). */
export function nameFromSourcePath(relativePath: string): string {
  return relativePath.replace(/\\/g, '/').slice(0, -SOURCE_EXTENSION.length);
}

export function sourcePathOf(name: string): string {
  return name + SOURCE_EXTENSION;
}

/** Problems with a name's shape; [] for a good name. Invalid names stop there. */
export function checkName(name: string): NameProblem[] {
  const quoted = JSON.stringify(name);
  if (name.includes('\\'))
    return [
      {
        rule: 'invalid-name',
        message: `function name ${quoted} contains a backslash`,
        hint: `names always use '/' between folders: ${JSON.stringify(name.replace(/\\/g, '/'))}`,
      },
    ];
  if (CONTROL.test(name)) return [{ rule: 'invalid-name', message: `function name ${quoted} contains a control character` }];
  if (name.startsWith('/') || name.endsWith('/'))
    return [
      {
        rule: 'invalid-name',
        message: `function name ${quoted} has a ${name.startsWith('/') ? 'leading' : 'trailing'} '/'`,
        hint: `use ${JSON.stringify(name.replace(/^\/+|\/+$/g, ''))}`,
      },
    ];
  const segments = name.split('/');
  if (segments.some((s) => s === '')) return [{ rule: 'invalid-name', message: `function name ${quoted} has an empty segment ('//')` }];
  const dots = segments.find((s) => s === '.' || s === '..');
  if (dots !== undefined)
    return [
      {
        rule: 'invalid-name',
        message: `function name ${quoted} has a '${dots}' segment`,
        hint: 'a name is a path inside functions/ and cannot step out of it',
      },
    ];
  if (segments.includes('node_modules'))
    return [
      {
        rule: 'invalid-name',
        message: `function name ${quoted} is inside node_modules`,
        hint: 'files under node_modules are packages, never functions',
      },
    ];
  const odd = segments.filter((s) => !PORTABLE_SEGMENT.test(s));
  if (odd.length > 0) {
    const hint = name.endsWith(SOURCE_EXTENSION)
      ? `names do not include the extension: ${JSON.stringify(name.slice(0, -SOURCE_EXTENSION.length))}`
      : 'use letters, digits, "_" and "-" so the name works in URLs, file systems and generated types';
    return [
      {
        rule: 'name-not-portable',
        message: `function name ${quoted} has characters outside [A-Za-z0-9_-] in ${odd.map((s) => JSON.stringify(s)).join(', ')}`,
        hint,
      },
    ];
  }
  return [];
}
