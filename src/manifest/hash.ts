// Content hashes and diffs of an app's functions: what push, pull and the server compare. A
// function's state is its source's hash plus its manifest entry (canonical JSON; null when the
// source has no entry and so runs with the defaults).
import { createHash } from 'node:crypto';
import type { Manifest } from './load.js';

export interface FunctionState {
  hash: string;
  entry: string | null;
}

export type AppState = Record<string, FunctionState>;

export interface PlanChange {
  name: string;
  source: boolean;
  entry: boolean;
}

export interface Plan {
  added: string[];
  changed: PlanChange[];
  deleted: string[];
  unchanged: number;
}

export function hashText(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) Object.defineProperty(sorted, k, { value: (v as Record<string, unknown>)[k], enumerable: true });
    return sorted;
  });
}

/** The state of every function of a manifest, given each source's text. */
export function appState(manifest: Manifest, sourceText: (name: string) => string): AppState {
  const state: AppState = {};
  // The first entry of a name is the function's (validate reports the others), as in the bundle.
  const entries = new Map<string, Manifest['entries'][number]>();
  for (const e of manifest.entries) if (!entries.has(e.name)) entries.set(e.name, e);
  for (const name of manifest.sources.keys()) {
    const entry = entries.get(name);
    state[name] = { hash: hashText(sourceText(name)), entry: entry ? canonicalJson(entry.raw) : null };
  }
  return state;
}

export function isEmptyPlan(plan: Plan): boolean {
  return !plan.added.length && !plan.changed.length && !plan.deleted.length;
}

/** What turns `from` into `to`, optionally only for some names. */
export function diffStates(from: AppState, to: AppState, only?: ReadonlySet<string>): Plan {
  const plan: Plan = { added: [], changed: [], deleted: [], unchanged: 0 };
  const names = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  for (const name of names) {
    const a = Object.hasOwn(from, name) ? from[name] : undefined;
    const b = Object.hasOwn(to, name) ? to[name] : undefined;
    if (only && !only.has(name)) {
      if (a) plan.unchanged++;
      continue;
    }
    if (!a && b) plan.added.push(name);
    else if (a && !b) plan.deleted.push(name);
    else if (a && b) {
      const source = a.hash !== b.hash;
      const entry = a.entry !== b.entry;
      if (source || entry) plan.changed.push({ name, source, entry });
      else plan.unchanged++;
    }
  }
  return plan;
}

/** The names a plan touches. */
export function planNames(plan: Plan): string[] {
  return [...plan.added, ...plan.changed.map((c) => c.name), ...plan.deleted].sort();
}
