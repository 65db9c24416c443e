// What an installed fn can load: every package a file under dist/ imports (statically, with
// import(), or through require/createRequire) is a Node built-in or in `dependencies`. A
// devDependency there works in the repository and fails only once installed (exit 70).
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { parse } from 'acorn';
import { simple } from 'acorn-walk';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The module specifiers a module's code loads, when they are written as string literals. */
export function importsOf(code: string): string[] {
  const out: string[] = [];
  const literal = (node: unknown) => {
    const n = node as { type: string; value?: unknown };
    if (n.type === 'Literal' && typeof n.value === 'string') out.push(n.value);
  };
  const ast = parse(code, { ecmaVersion: 'latest', sourceType: 'module' });
  simple(ast, {
    ImportDeclaration: (n) => literal(n.source),
    ExportNamedDeclaration: (n) => n.source && literal(n.source),
    ExportAllDeclaration: (n) => literal(n.source),
    ImportExpression: (n) => literal(n.source),
    CallExpression: (n) => {
      const callee = n.callee;
      // require('x'), require.resolve('x'), createRequire(...)('x')
      const isRequire =
        (callee.type === 'Identifier' && callee.name === 'require') ||
        (callee.type === 'MemberExpression' && callee.object.type === 'Identifier' && callee.object.name === 'require') ||
        (callee.type === 'CallExpression' && callee.callee.type === 'Identifier' && callee.callee.name === 'createRequire');
      if (isRequire && n.arguments[0]) literal(n.arguments[0]);
    },
  });
  return out;
}

/** The package a bare specifier names ('@scope/name/sub' → '@scope/name'); undefined for relative ones. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:') || specifier.startsWith('#'))
    return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));
}

describe('the packages dist/ loads', () => {
  it('finds every form of import (the control for the next test)', () => {
    const code = [
      "import a from 'a-pkg';",
      "import '@scope/b/sub.js';",
      "export { c } from 'c-pkg';",
      "export * from './local.js';",
      "const d = await import('d-pkg');",
      "import { createRequire } from 'node:module';",
      "const e = createRequire(import.meta.url)('e-pkg');",
      "const f = require.resolve('f-pkg/package.json');",
    ].join('\n');
    expect(importsOf(code).sort()).toEqual([
      './local.js',
      '@scope/b/sub.js',
      'a-pkg',
      'c-pkg',
      'd-pkg',
      'e-pkg',
      'f-pkg/package.json',
      'node:module',
    ]);
    expect(['@scope/b/sub.js', 'f-pkg/package.json', './local.js'].map(packageOf)).toEqual(['@scope/b', 'f-pkg', undefined]);
  });

  it('every one is a Node built-in or in dependencies, never a devDependency', () => {
    const files = jsFiles(join(repoRoot, 'dist'));
    expect(files.length).toBeGreaterThan(10);
    const wrong: string[] = [];
    const used = new Set<string>();
    for (const file of files) {
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const name = packageOf(spec);
        // A node: specifier is always a built-in, one this Node may not have yet (node:sqlite on 20).
        if (name === undefined || isBuiltin(spec) || spec.startsWith('node:')) continue;
        used.add(name);
        if (!(name in pkg.dependencies))
          wrong.push(`${relative(repoRoot, file)} imports ${spec}${name in pkg.devDependencies ? ' (a devDependency)' : ''}`);
      }
    }
    expect(wrong).toEqual([]);
    // The scan sees the lazy imports too: validate --staged's execa and the types command's ts-morph.
    expect([...used]).toEqual(expect.arrayContaining(['execa', 'ts-morph', 'chokidar', 'bson', 'commander']));
  });
});
