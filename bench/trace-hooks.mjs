// Module hooks for trace-loads.mjs (they run on Node's hooks thread): log every resolved URL.
import { appendFileSync } from 'node:fs';

let trace;

export function initialize(data) {
  trace = data.trace;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(trace, result.url + '\n');
  return result;
}
