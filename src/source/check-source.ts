// Checks a function file the way App Services loads it: a plain script that assigns a function
// to `exports`, with require() called inside the function. Uses acorn (fast, small), never
// TypeScript, so validate stays quick.
import { parse, type Expression, type Node, type Options, type Pattern, type Super } from 'acorn';
import { ancestor } from 'acorn-walk';
import { LineIndex } from '../manifest/positions.js';

export interface SourceProblem {
  rule: 'source-syntax' | 'no-exports' | 'top-level-require';
  message: string;
  line: number;
  column: number;
  hint?: string;
}

// No `locations`: positions are computed from offsets only for what gets reported.
const OPTIONS: Options = { ecmaVersion: 'latest', sourceType: 'script', locations: false, allowHashBang: true };

interface Loc {
  line: number;
  column: number;
}

const FUNCTION_TYPES = new Set(['FunctionExpression', 'ArrowFunctionExpression', 'FunctionDeclaration']);

export function parseScript(text: string): { program: Node } | { error: { message: string; line: number; column: number } } {
  try {
    return { program: parse(text, OPTIONS) };
  } catch (error) {
    const e = error as SyntaxError & { loc?: { line: number; column: number } };
    const message = e.message.replace(/\s*\(\d+:\d+\)$/, '');
    return { error: { message, line: e.loc?.line ?? 1, column: (e.loc?.column ?? 0) + 1 } };
  }
}

export function checkSource(text: string): SourceProblem[] {
  const parsed = parseScript(text);
  let lines: LineIndex | undefined;
  if ('error' in parsed) {
    return [
      {
        rule: 'source-syntax',
        ...parsed.error,
        message: `syntax error: ${parsed.error.message}`,
        hint: 'function files are plain scripts (no import/export statements)',
      },
    ];
  }
  const problems: SourceProblem[] = [];
  let assignsFunction = false;
  let exportsAssignment: Loc | undefined;
  let moduleExports: Loc | undefined;

  const start = (n: Node): Loc => (lines ??= new LineIndex(text)).position(n.start);

  ancestor(parsed.program, {
    AssignmentExpression(node) {
      const left = node.left;
      if (left.type === 'Identifier' && left.name === 'exports') {
        exportsAssignment ??= start(node);
        // Anything but a literal, object or array may evaluate to a function: accept it.
        if (!['Literal', 'ObjectExpression', 'ArrayExpression', 'TemplateLiteral'].includes(node.right.type)) assignsFunction = true;
      } else if (isMember(left, 'module', 'exports')) {
        moduleExports ??= start(node);
      }
    },
    CallExpression(node, _state, ancestors) {
      const callee = node.callee;
      if (callee.type !== 'Identifier' || callee.name !== 'require') return;
      if (ancestors.some((a) => FUNCTION_TYPES.has(a.type))) return;
      const arg = node.arguments[0];
      const spec = arg?.type === 'Literal' && typeof arg.value === 'string' ? arg.value : undefined;
      const relative = spec !== undefined && (spec.startsWith('./') || spec.startsWith('../'));
      problems.push({
        rule: 'top-level-require',
        ...start(node),
        message: relative
          ? `require(${JSON.stringify(spec)}) outside the function: App Services deploys each function file alone, so relative requires do not resolve`
          : `require(${spec === undefined ? '…' : JSON.stringify(spec)}) outside the function: App Services resolves require only inside the function body`,
        hint: relative
          ? 'share code through context.functions.execute("<name>") or an npm package'
          : 'move the require into the exported function',
      });
    },
  });

  if (!assignsFunction) {
    const at = moduleExports ?? exportsAssignment ?? { line: 1, column: 1 };
    problems.unshift({
      rule: 'no-exports',
      ...at,
      message: moduleExports
        ? 'the file assigns module.exports, which App Services does not provide'
        : exportsAssignment
          ? 'the value assigned to exports is not a function'
          : 'the file never assigns a function to exports',
      hint: moduleExports
        ? 'replace module.exports with exports = function (...) { ... }: module is undefined in App Services'
        : 'write exports = function (args) { ... }',
    });
  }
  return problems;
}

function isMember(node: Pattern | Expression | Super, object: string, property: string): boolean {
  if (node.type !== 'MemberExpression') return false;
  const o = node.object;
  const p = node.property;
  return (
    o.type === 'Identifier' &&
    o.name === object &&
    ((p.type === 'Identifier' && p.name === property && !node.computed) || (p.type === 'Literal' && p.value === property))
  );
}

/**
 * run_as_user_id_script_source: a function source. Accepted as a script (exports = …) or as a bare
 * function expression.
 */
export function checkScriptSource(text: string): { message: string; line: number; column: number } | undefined {
  const asScript = parseScript(text);
  if (!('error' in asScript)) return undefined;
  const asExpression = parseScript(`(${text}\n)`);
  if (!('error' in asExpression)) return undefined;
  return asScript.error;
}
