// Prints a TypeScript type as self-contained text for the generated .d.ts: only keywords,
// literals, structural object/array/tuple forms and a few standard library names, so the output
// never holds `import(...)`, a JSDoc @typedef name or anything else the reader cannot resolve.
// What cannot be printed faithfully becomes `unknown`, never a guess.
// Imported only by infer.ts (it needs TypeScript). `ts` is the compiler API's values, `TS` its types.
import type { ts as TS } from 'ts-morph';
import { tsMorph } from './ts-morph.js';

const { ts } = tsMorph;

/** 'value': as context.functions.execute passes it; 'json': after JSON.stringify (what a client sees). */
export type PrintMode = 'value' | 'json';

const MAX_DEPTH = 12;
const MAX_LENGTH = 20_000;

/** Standard library types kept by name (and type arguments) in 'value' mode: every lib from ES2015 on has them. */
const LIB_NAMES = new Set([
  'Date',
  'RegExp',
  'Error',
  'Map',
  'Set',
  'ReadonlyMap',
  'ReadonlySet',
  'WeakMap',
  'WeakSet',
  'Promise',
  'ArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
]);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

interface Printed {
  text: string;
  /** A union or intersection: needs parentheses inside T[]. */
  compound: boolean;
}

const UNKNOWN: Printed = { text: 'unknown', compound: false };
const simple = (text: string): Printed => ({ text, compound: false });

export class TypePrinter {
  readonly #checker: TS.TypeChecker;
  readonly #program: TS.Program;
  #mode: PrintMode = 'value';
  readonly #stack = new Set<TS.Type>();

  constructor(program: TS.Program) {
    this.#program = program;
    this.#checker = program.getTypeChecker();
  }

  /**
   * The type as text, or 'unknown' when it cannot be written faithfully. `optional` leaves out the
   * undefined that an optional parameter or property already allows.
   */
  print(type: TS.Type, mode: PrintMode, options: { optional?: boolean } = {}): string {
    this.#mode = mode;
    this.#stack.clear();
    const { text } = options.optional ? this.#printOptional(type, 0) : this.#print(type, 0);
    return text.length > MAX_LENGTH ? 'unknown' : text;
  }

  #printOptional(type: TS.Type, depth: number): Printed {
    if (!(type.flags & ts.TypeFlags.Union)) return this.#print(type, depth);
    const defined = (type as TS.UnionType).types.filter((t) => !(t.flags & ts.TypeFlags.Undefined));
    return defined.length ? this.#union(defined, depth) : this.#print(type, depth);
  }

  #print(type: TS.Type, depth: number): Printed {
    const f = type.flags;
    const json = this.#mode === 'json';
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return UNKNOWN;
    if (f & ts.TypeFlags.String) return simple('string');
    if (f & ts.TypeFlags.Number) return simple('number');
    if (f & ts.TypeFlags.Boolean) return simple('boolean');
    if (f & ts.TypeFlags.BigInt) return json ? UNKNOWN : simple('bigint');
    if (f & ts.TypeFlags.Null) return simple('null');
    if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) return simple('undefined');
    if (f & ts.TypeFlags.Never) return simple('never');
    if (f & (ts.TypeFlags.ESSymbol | ts.TypeFlags.UniqueESSymbol)) return json ? UNKNOWN : simple('symbol');
    if (f & ts.TypeFlags.NonPrimitive) return simple('object');
    if (f & ts.TypeFlags.EnumLike) return UNKNOWN;
    if (f & ts.TypeFlags.StringLiteral) return simple(JSON.stringify((type as TS.StringLiteralType).value));
    if (f & ts.TypeFlags.NumberLiteral) {
      const value = (type as TS.NumberLiteralType).value;
      return Number.isFinite(value) ? simple(String(value)) : simple('number');
    }
    if (f & ts.TypeFlags.BigIntLiteral) {
      if (json) return UNKNOWN;
      const { negative, base10Value } = (type as TS.BigIntLiteralType).value;
      return simple(`${negative ? '-' : ''}${base10Value}n`);
    }
    if (f & ts.TypeFlags.BooleanLiteral)
      return simple((type as TS.Type & { intrinsicName?: string }).intrinsicName === 'true' ? 'true' : 'false');
    if (f & ts.TypeFlags.Union) return this.#union((type as TS.UnionType).types, depth);
    if (f & ts.TypeFlags.Intersection) return this.#intersection((type as TS.IntersectionType).types, depth);
    if (f & ts.TypeFlags.Object) return this.#object(type as TS.ObjectType, depth);
    // Type parameters, conditional, indexed-access, template-literal and other deferred types.
    return UNKNOWN;
  }

  #union(types: readonly TS.Type[], depth: number): Printed {
    const texts = new Set<string>();
    let hasTrue = false;
    let hasFalse = false;
    for (const member of types) {
      if (member.flags & ts.TypeFlags.BooleanLiteral) {
        if ((member as TS.Type & { intrinsicName?: string }).intrinsicName === 'true') hasTrue = true;
        else hasFalse = true;
        continue;
      }
      const printed = this.#print(member, depth);
      if (printed.text === 'unknown') return UNKNOWN;
      if (printed.text !== 'never') texts.add(printed.compound ? `(${printed.text})` : printed.text);
    }
    if (hasTrue && hasFalse) texts.add('boolean');
    else if (hasTrue) texts.add('true');
    else if (hasFalse) texts.add('false');
    return joinSorted([...texts], ' | ');
  }

  #intersection(types: readonly TS.Type[], depth: number): Printed {
    const texts = new Set<string>();
    for (const member of types) {
      const printed = this.#print(member, depth);
      if (printed.text === 'never') return simple('never');
      // unknown & T is T: a part we cannot print only loses precision.
      if (printed.text !== 'unknown') texts.add(printed.compound ? `(${printed.text})` : printed.text);
    }
    return joinSorted([...texts], ' & ');
  }

  #object(type: TS.ObjectType, depth: number): Printed {
    if (depth >= MAX_DEPTH || this.#stack.has(type)) return UNKNOWN;
    this.#stack.add(type);
    try {
      return this.#objectInner(type, depth + 1);
    } finally {
      this.#stack.delete(type);
    }
  }

  #objectInner(type: TS.ObjectType, depth: number): Printed {
    const checker = this.#checker;
    if (checker.isArrayType(type)) {
      const element = checker.getTypeArguments(type as TS.TypeReference)[0];
      const printed = element ? this.#print(element, depth) : UNKNOWN;
      const readonly = type.getSymbol()?.getName() === 'ReadonlyArray' ? 'readonly ' : '';
      return simple(`${readonly}${printed.compound ? `(${printed.text})` : printed.text}[]`);
    }
    if (checker.isTupleType(type)) return this.#tuple(type as TS.TupleTypeReference, depth);
    const symbol = type.getSymbol();
    // Named standard library interfaces and classes (Date, Map, ...); anonymous and mapped lib
    // types (Record<K, T>, Partial<T>) are printed by structure below.
    if (symbol && symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class) && this.#isLibSymbol(symbol))
      return this.#libType(type, symbol, depth);
    if (type.getCallSignatures().length || type.getConstructSignatures().length) return UNKNOWN;
    const members: string[] = [];
    for (const info of checker.getIndexInfosOfType(type)) {
      const key = this.#print(info.keyType, depth).text;
      if (key !== 'string' && key !== 'number') continue;
      members.push(`[key: ${key}]: ${this.#print(info.type, depth).text}`);
    }
    for (const prop of checker.getPropertiesOfType(type)) {
      const name = prop.getName();
      // Symbol-keyed and #private members have no name a client can use.
      if (name.startsWith('__@') || name.startsWith('__#')) continue;
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      const propType = checker.getTypeOfSymbol(prop);
      // JSON.stringify drops function-valued properties.
      if (this.#mode === 'json' && propType.getCallSignatures().length && !(propType.flags & ts.TypeFlags.Union)) continue;
      // `a?: T` already allows undefined: print T, as TypeScript does.
      const printed = optional ? this.#printOptional(propType, depth) : this.#print(propType, depth);
      members.push(`${IDENTIFIER.test(name) ? name : JSON.stringify(name)}${optional ? '?' : ''}: ${printed.text}`);
    }
    return simple(members.length ? `{ ${members.join('; ')} }` : '{}');
  }

  #tuple(type: TS.TupleTypeReference, depth: number): Printed {
    const target = type.target;
    const elements = this.#checker.getTypeArguments(type).slice(0, target.elementFlags.length);
    const parts = elements.map((element, i) => {
      const flags = target.elementFlags[i] ?? ts.ElementFlags.Required;
      const printed = flags & ts.ElementFlags.Optional ? this.#printOptional(element, depth) : this.#print(element, depth);
      const text = printed.compound ? `(${printed.text})` : printed.text;
      if (flags & ts.ElementFlags.Rest) return `...${text}[]`;
      if (flags & ts.ElementFlags.Variadic) return '...unknown[]';
      if (flags & ts.ElementFlags.Optional) return `${text}?`;
      return printed.text;
    });
    return simple(`${target.readonly ? 'readonly ' : ''}[${parts.join(', ')}]`);
  }

  /** A standard library type: its name in 'value' mode when every lib has it; Date is a string in JSON. */
  #libType(type: TS.ObjectType, symbol: TS.Symbol, depth: number): Printed {
    const name = symbol.getName();
    if (this.#mode === 'json') return name === 'Date' ? simple('string') : UNKNOWN;
    if (!LIB_NAMES.has(name)) return UNKNOWN;
    const args = type.objectFlags & ts.ObjectFlags.Reference ? this.#checker.getTypeArguments(type as TS.TypeReference) : [];
    return simple(args.length ? `${name}<${args.map((a) => this.#print(a, depth).text).join(', ')}>` : name);
  }

  #isLibSymbol(symbol: TS.Symbol): boolean {
    const declarations = symbol.getDeclarations() ?? [];
    return declarations.length > 0 && declarations.every((d) => this.#program.isSourceFileDefaultLibrary(d.getSourceFile()));
  }
}

/** Members in a stable order (never TypeScript's, which follows type ids): null and undefined last. */
function joinSorted(texts: string[], separator: string): Printed {
  if (texts.length === 0) return simple(separator === ' | ' ? 'never' : 'unknown');
  if (texts.length === 1) return simple(texts[0]!);
  const rank = (t: string) => (t === 'null' ? 1 : t === 'undefined' ? 2 : 0);
  const sorted = texts.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return { text: sorted.join(separator), compound: true };
}
