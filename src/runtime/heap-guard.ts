// A worker thread that runs out of heap inside one long native step (JSON.parse of a huge text)
// is not stopped in time: V8 aborts the whole process, not just the worker (Node 20 and 22). Such
// texts are refused before they are parsed, by an estimate of the heap they would take, against
// the heap this thread has left. Heaps filled step by step (arrays of objects, strings) are
// stopped by the worker's resourceLimits instead: the call fails with MEMORY_LIMIT.
import { getHeapStatistics } from 'node:v8';

/** Texts shorter than this are parsed without a look: they cannot take much. */
const SMALL = 1 << 20;
/** Bytes an object or array takes once parsed, at most (with its slot in its parent). */
const PER_CONTAINER = 64;
/** Bytes a comma may add: a slot of an array, and its share of the array's growth. */
const PER_COMMA = 16;

/** Whether parsing this JSON text leaves this thread's heap at most half used up by it. */
export function jsonFits(text: string): boolean {
  if (text.length < SMALL) return true;
  const heap = getHeapStatistics();
  const room = (heap.heap_size_limit - heap.used_heap_size) / 2;
  if (text.length * (PER_CONTAINER + PER_COMMA) < room) return true;
  let containers = 0;
  let commas = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) containers++;
    else if (c === 44) commas++;
  }
  return text.length * 2 + containers * PER_CONTAINER + commas * PER_COMMA < room;
}

/**
 * Makes a vm context's JSON.parse refuse, with the context's own RangeError, a text that does not
 * fit (see jsonFits). The wrapper is made inside the context, so function code reaches nothing of
 * this thread through it.
 */
export const GUARD_JSON_PARSE = `(function (fits) {
  const original = JSON.parse;
  const guarded = { parse(text, reviver) {
    if (typeof text === 'string' && text.length >= ${SMALL} && !fits(text)) throw new RangeError('JSON.parse: the text is too large to parse within the memory limit of a function');
    return arguments.length > 1 ? Reflect.apply(original, JSON, [text, reviver]) : Reflect.apply(original, JSON, [text]);
  } }.parse;
  Object.defineProperty(JSON, 'parse', { value: guarded, writable: true, configurable: true, enumerable: false });
})`;
