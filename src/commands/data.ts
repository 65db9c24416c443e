// fn data import|export|reset: seeds, dumps and clears the embedded engine's collections
// (.fn/data/<source>/), in EJSON, so functions can be tried and tested with fixtures and no database.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadDataSources } from '../app/data-sources.js';
import type { Context } from '../context.js';
import { EmbeddedEngine } from '../data/embedded.js';
import { uriVariable } from '../data/hub.js';
import { loadBson } from '../data/libs.js';
import type { Document } from '../data/types.js';
import { FnError } from '../errors.js';
import { writeFileAtomic } from '../manifest/write.js';
import { requireAppRoot } from '../project/find-root.js';
import type { Ui } from '../ui/ui.js';
import { stripBom } from '../manifest/text.js';

export type DataAction = 'import' | 'export' | 'reset';

export interface DataOptions {
  action: DataAction;
  /** `<db>.<coll>`, or a file where the namespace may be left out. */
  args: string[];
  source?: string;
  /** import: empty the collections first. */
  replace?: boolean;
}

export interface DataResult {
  ok: true;
  action: DataAction;
  source: string;
  /** Each collection touched, with its number of documents (imported, exported, or removed). */
  collections: { namespace: string; documents: number }[];
  /** export without a file: the EJSON text written to stdout. */
  text?: string;
  file?: string;
}

const NAMESPACE = /^[^./\\\s$"]+\.[^/\\\s$]+$/;

function isNamespace(arg: string): boolean {
  return NAMESPACE.test(arg) && !/\.e?json$/i.test(arg);
}

function split(ns: string): [string, string] {
  const at = ns.indexOf('.');
  return [ns.slice(0, at), ns.slice(at + 1)];
}

export async function runData(ctx: Context, options: DataOptions): Promise<DataResult> {
  const found = requireAppRoot(ctx.cwd);
  const { sources } = loadDataSources(found.root);
  const names = sources.map((s) => s.name);
  const source =
    options.source ?? (names.length === 1 ? names[0]! : names.includes('mongodb-atlas') || !names.length ? 'mongodb-atlas' : undefined);
  if (!source)
    throw new FnError('USAGE', `the app has several data sources (${names.join(', ')}); say which`, { hint: `pass --source ${names[0]}` });
  if (names.length && !names.includes(source))
    throw new FnError('USAGE', `the app has no data source "${source}" (it has ${names.join(', ')})`, {
      hint: 'pass --source with one of those names',
    });
  if (ctx.env[uriVariable(source)]) {
    throw new FnError(
      'USAGE',
      `${uriVariable(source)} is set: "${source}" runs on that MongoDB, and fn data works on the embedded engine only`,
      { hint: 'unset it to work on .fn/data, or use mongoimport/mongoexport for the database' },
    );
  }
  const [first, second, ...rest] = options.args;
  if (rest.length)
    throw new FnError('USAGE', `fn data ${options.action} takes at most a namespace and a file, not "${rest.join(' ')}"`, {
      hint: 'e.g. fn data import shop.orders orders.json',
    });
  let ns: string | undefined;
  let file: string | undefined;
  if (first !== undefined && isNamespace(first)) [ns, file] = [first, second];
  else if (second !== undefined) throw new FnError('USAGE', `"${first}" is not a namespace: write <db>.<collection>, e.g. shop.orders`);
  else file = first;
  if (options.action === 'reset' && file !== undefined)
    throw new FnError('USAGE', `fn data reset takes a namespace (<db>.<collection>) or nothing, not "${file}"`);
  if (options.action === 'import' && file === undefined)
    throw new FnError('USAGE', 'fn data import needs a file (- for standard input)', {
      hint: 'fn data import shop.orders orders.json, or fn data import dump.json for { "db.coll": [...] }',
    });

  const engine = new EmbeddedEngine(resolve(found.root, '.fn', 'data', source));
  try {
    const { EJSON } = loadBson();
    if (options.action === 'reset') {
      const targets = ns ? [ns] : await engine.namespaces();
      const collections = [];
      for (const t of targets) collections.push({ namespace: t, documents: await engine.collection(...split(t)).countDocuments({}) });
      if (ns) engine.reset(...split(ns));
      else engine.reset();
      return { ok: true, action: 'reset', source, collections };
    }
    if (options.action === 'export') {
      const targets = ns ? [ns] : await engine.namespaces();
      const dump: Record<string, Document[]> = {};
      for (const t of targets)
        dump[t] = await engine
          .collection(...split(t))
          .find({})
          .toArray();
      const value = ns ? dump[ns]! : dump;
      const text = ns
        ? `[\n${dump[ns]!.map((d) => EJSON.stringify(d as never, { relaxed: true })).join(',\n')}\n]\n`
        : `${EJSON.stringify(value, undefined, 2, { relaxed: true })}\n`;
      const collections = targets.map((t) => ({ namespace: t, documents: dump[t]!.length }));
      if (file !== undefined && file !== '-') {
        writeFileAtomic(resolve(ctx.cwd, file), text);
        return { ok: true, action: 'export', source, collections, file };
      }
      return { ok: true, action: 'export', source, collections, text };
    }
    // import
    let raw: string;
    try {
      raw = file === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(ctx.cwd, file!), 'utf8');
    } catch (error) {
      throw new FnError('USAGE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    let value: unknown;
    try {
      value = EJSON.parse(stripBom(raw));
    } catch (error) {
      throw new FnError('USAGE', `${file} is not EJSON: ${(error as Error).message}`, {
        hint: 'give a JSON array of documents (Extended JSON: {"$oid": …}, {"$date": …})',
      });
    }
    let batches: [string, Document[]][];
    if (ns) {
      if (!Array.isArray(value))
        throw new FnError('USAGE', `${file} must hold an array of documents for ${ns}`, {
          hint: 'or leave out the namespace and give { "db.coll": [ ...documents ] }',
        });
      batches = [[ns, value as Document[]]];
    } else {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new FnError('USAGE', `${file} holds an array: say which collection it goes to`, {
          hint: `fn data import <db>.<collection> ${file}`,
        });
      batches = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
        if (!isNamespace(k)) throw new FnError('USAGE', `${file}: "${k}" is not a namespace (<db>.<collection>)`);
        if (!Array.isArray(v)) throw new FnError('USAGE', `${file}: "${k}" must hold an array of documents`);
        return [k, v as Document[]];
      });
    }
    const collections = [];
    for (const [t, docs] of batches) {
      const c = engine.collection(...split(t));
      try {
        if (options.replace) c.load(docs);
        else if (docs.length) {
          // All or nothing: the documents are checked together with what is stored before any is kept.
          c.load([...c.all(), ...docs]);
        }
      } catch (error) {
        throw new FnError('USAGE', `${t}: ${(error as Error).message}`, {
          hint: options.replace ? undefined : 'pass --replace to empty the collection first',
        });
      }
      engine.changed(c);
      collections.push({ namespace: t, documents: docs.length });
    }
    return { ok: true, action: 'import', source, collections };
  } finally {
    await engine.close();
  }
}

export function renderData(result: DataResult, ui: Ui): void {
  const c = ui.c;
  if (result.text !== undefined) ui.write(result.text);
  const verb = result.action === 'import' ? 'imported' : result.action === 'export' ? 'exported' : 'removed';
  const total = result.collections.reduce((n, x) => n + x.documents, 0);
  const where = result.collections.map((x) => `${x.namespace} (${x.documents})`).join(', ') || 'no collections';
  ui.err(
    `${c.green('✔')} ${verb} ${total} document${total === 1 ? '' : 's'}: ${where}${result.file ? ` → ${c.cyan(result.file)}` : ''} ${c.dim(`[${result.source}, embedded engine]`)}`,
  );
}
