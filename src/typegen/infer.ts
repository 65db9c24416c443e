// Argument and result types of each function, from its JSDoc or, where there is none, from what
// TypeScript infers for the JavaScript. One ts-morph project, kept between calls: a call after
// the first looks again only at the files whose text changed. It runs in a worker thread
// (infer-worker.ts): it loads ts-morph and TypeScript.
//
// Each function file is its own module (moduleDetection: force) and sees only the fn runtime
// globals, so its signature depends on its own text alone; that is what makes the cache sound.
import type { ts as TS } from 'ts-morph';
import { tsMorph } from './ts-morph.js';
import { TypePrinter } from './print-type.js';
import { UNKNOWN_SIGNATURE, type FunctionSignature, type ParamSignature } from './signature.js';

// `ts` is the compiler API's values (flags, node tests), `TS` its types.
const { Project, ts } = tsMorph;

export interface InferInput {
  name: string;
  /** The source text; undefined when there is none (the signature is then unknown). */
  text: string | undefined;
}

export interface TypeInferrer {
  /** The signature of every given function, keyed by name. */
  infer(functions: readonly InferInput[]): Map<string, FunctionSignature>;
}

const RUNTIME_PATH = '/__fn__/fn-runtime.d.ts';
const RECORD = 'Record<string, unknown>';
const RESERVED = new Set(['arguments', 'await', 'eval', 'let', 'static', 'yield']);

const COMPILER_OPTIONS: TS.CompilerOptions = {
  allowJs: true,
  checkJs: false,
  noEmit: true,
  noResolve: true,
  skipLibCheck: true,
  strictNullChecks: true,
  types: [],
  lib: ['lib.es2022.d.ts'],
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.Preserve,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  moduleDetection: ts.ModuleDetectionKind.Force,
};

/**
 * `runtimeText` is templates/base/types/fn-runtime.d.ts: the globals a function sees (context,
 * require, ...), so that `return context.user` has a type.
 */
export function createInferrer(runtimeText: string): TypeInferrer {
  const project = new Project({
    compilerOptions: COMPILER_OPTIONS,
    useInMemoryFileSystem: true,
    skipAddingFilesFromTsConfig: true,
    skipFileDependencyResolution: true,
  });
  project.createSourceFile(RUNTIME_PATH, inferenceRuntime(runtimeText));
  const cache = new Map<string, { text: string; signature: FunctionSignature }>();

  return {
    infer(functions) {
      const present = new Set(functions.map((f) => f.name));
      for (const name of [...cache.keys()]) {
        if (present.has(name)) continue;
        forget(name);
      }
      const changed: string[] = [];
      for (const f of functions) {
        if (f.text === undefined) {
          forget(f.name);
          continue;
        }
        if (cache.get(f.name)?.text === f.text) continue;
        // `overwrite` only for a file the project has: for a new one it costs a failed file-system lookup.
        const path = pathOf(f.name);
        project.createSourceFile(path, f.text, { overwrite: project.getSourceFile(path) !== undefined });
        cache.set(f.name, { text: f.text, signature: UNKNOWN_SIGNATURE });
        changed.push(f.name);
      }
      if (changed.length) {
        const program = project.getProgram().compilerObject;
        const printer = new TypePrinter(program);
        for (const name of changed) {
          const source = program.getSourceFile(pathOf(name));
          const entry = cache.get(name)!;
          entry.signature = source ? signatureOf(source, program.getTypeChecker(), printer) : UNKNOWN_SIGNATURE;
        }
      }
      return new Map(functions.map((f) => [f.name, cache.get(f.name)?.signature ?? UNKNOWN_SIGNATURE]));
    },
  };

  function forget(name: string): void {
    cache.delete(name);
    const file = project.getSourceFile(pathOf(name));
    if (file) project.removeSourceFile(file);
  }
}

/** A name as a path in the in-memory file system: the same for every app, so output never depends on where it lives. */
function pathOf(name: string): string {
  return `/functions/${name}.js`;
}

/**
 * The runtime as inference sees it. `exports` becomes `any`: its declared function type would
 * contextually type every parameter as `any` and hide what a destructured `({ items })` says.
 */
export function inferenceRuntime(runtimeText: string): string {
  return runtimeText.replace(/^declare var exports\b[^\n]*$/m, 'declare var exports: any;');
}

/** The last top-level `exports = <expression>` of a file (the one in force when it has run). */
export function exportsAssignment(source: TS.SourceFile): TS.BinaryExpression | undefined {
  let found: TS.BinaryExpression | undefined;
  for (const statement of source.statements) {
    if (!ts.isExpressionStatement(statement)) continue;
    const e = statement.expression;
    if (
      ts.isBinaryExpression(e) &&
      e.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isIdentifier(e.left) &&
      e.left.text === 'exports'
    )
      found = e;
  }
  return found;
}

function signatureOf(source: TS.SourceFile, checker: TS.TypeChecker, printer: TypePrinter): FunctionSignature {
  const assignment = exportsAssignment(source);
  if (!assignment) return UNKNOWN_SIGNATURE;
  const signatures = checker.getTypeAtLocation(assignment.right).getCallSignatures();
  const signature = signatures.length === 1 ? signatures[0] : undefined;
  if (!signature) return UNKNOWN_SIGNATURE;

  const declaration = signature.getDeclaration() as TS.SignatureDeclaration | undefined;
  const symbols = signature.getParameters();
  const hasRest = declaration !== undefined && ts.hasRestParameter(declaration);
  const labels = new Set<string>();
  const optionalFrom = firstOptional(symbols, checker);
  const params: ParamSignature[] = symbols.map((symbol, i) => {
    const type = checker.getTypeOfSymbol(symbol);
    const rest = hasRest && i === symbols.length - 1;
    const optional = !rest && i >= optionalFrom;
    let text = printer.print(type, 'value', { optional });
    if (rest && !checker.isArrayType(type) && !checker.isTupleType(type)) text = 'unknown[]';
    return { name: label(symbol, i, labels), type: text, optional, rest };
  });

  const first = symbols[0];
  const clientArgs = first && !(hasRest && symbols.length === 1) ? namedArgs(checker.getTypeOfSymbol(first), checker, printer) : RECORD;
  const awaited = checker.getAwaitedType(signature.getReturnType());
  return {
    params,
    result: awaited ? printer.print(awaited, 'value') : 'unknown',
    clientArgs,
    clientResult: awaited ? printer.print(awaited, 'json') : 'unknown',
  };
}

/** The index from which every parameter may be left out (a required one after an optional one makes both required). */
function firstOptional(symbols: readonly TS.Symbol[], checker: TS.TypeChecker): number {
  let from = symbols.length;
  for (let i = symbols.length - 1; i >= 0; i--) {
    const declaration = symbols[i]!.valueDeclaration;
    const optional =
      declaration !== undefined &&
      ts.isParameter(declaration) &&
      (declaration.dotDotDotToken !== undefined || checker.isOptionalParameter(declaration));
    if (!optional) break;
    from = i;
  }
  return from;
}

/**
 * What a client may send: the first parameter's type when it is a plain object (the SDK always
 * sends one object of named parameters), else an open record.
 */
function namedArgs(type: TS.Type, checker: TS.TypeChecker, printer: TypePrinter): string {
  const defined = checker.getNonNullableType(type);
  const members = defined.flags & ts.TypeFlags.Union ? (defined as TS.UnionType).types : [defined];
  const plainObject = (t: TS.Type) =>
    (t.flags & ts.TypeFlags.Object) !== 0 &&
    !checker.isArrayType(t) &&
    !checker.isTupleType(t) &&
    t.getCallSignatures().length === 0 &&
    t.getConstructSignatures().length === 0;
  if (!members.every(plainObject)) return RECORD;
  const text = printer.print(defined, 'json');
  return text === 'unknown' || text === '{}' ? RECORD : text;
}

/** A tuple label: the parameter's own name, or args / arg<N> for a destructured one; unique. */
function label(symbol: TS.Symbol, index: number, taken: Set<string>): string {
  const declaration = symbol.valueDeclaration;
  const own = declaration && ts.isParameter(declaration) && ts.isIdentifier(declaration.name) ? declaration.name.text : undefined;
  let name = own && /^[A-Za-z_$][\w$]*$/.test(own) && !RESERVED.has(own) ? own : index === 0 ? 'args' : `arg${index}`;
  while (taken.has(name)) name = `${name}_`;
  taken.add(name);
  return name;
}
