// What fn types knows about one function: printed TypeScript types, ready to emit. Built by
// infer.ts (TypeScript), consumed by emit.ts (strings only), so emitting never loads TypeScript.

/** One parameter of the exported function, as context.functions.execute passes it. */
export interface ParamSignature {
  /** A tuple label: the parameter's name, or args / arg<N> for a destructured one. */
  name: string;
  type: string;
  optional: boolean;
  rest: boolean;
}

export interface FunctionSignature {
  /** Positional parameters for context.functions.execute; undefined when they cannot be known. */
  params: ParamSignature[] | undefined;
  /** The awaited result as execute returns it. */
  result: string;
  /** The named-parameters object a client sends (its JSON form). */
  clientArgs: string;
  /** The JSON result a client receives. */
  clientResult: string;
}

/** The types that claim nothing: what a function with no readable signature gets. */
export const UNKNOWN_SIGNATURE: FunctionSignature = {
  params: undefined,
  result: 'unknown',
  clientArgs: 'Record<string, unknown>',
  clientResult: 'unknown',
};
