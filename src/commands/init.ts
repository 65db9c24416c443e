// fn init [dir]: a working app from a template, beside whatever the folder already holds (a
// package.json, a README, a frontend), or fn.config.json alone inside an existing App Services
// export. Never overwrites a user's file: when one is in the way, it names each and writes nothing.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { writeFileAtomic } from '../manifest/write.js';
import { CONFIG_FILE } from '../project/find-root.js';
import { appIdFromExport, displayPath, slugify } from '../project/load-project.js';
import { appTemplates, readTemplate } from '../project/templates.js';
import type { Ui } from '../ui/ui.js';

export interface InitOptions {
  dir?: string;
  template?: string;
  appId?: string;
  yes?: boolean;
}

export interface InitResult {
  ok: true;
  /** The app folder, relative to the working folder. */
  root: string;
  appId: string;
  appIdSource: string;
  /** The template used; undefined when an export was adopted. */
  template: string | undefined;
  adopted: boolean;
  /** Files written, relative to the app folder. */
  created: string[];
  /** Files that were there and got lines added (.gitignore), relative to the app folder. */
  updated: string[];
  next: string[];
}

const APP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** The JSON Schema of fn.config.json that this fn ships. */
const CONFIG_SCHEMA = fileURLToPath(new URL('../../schemas/fn-config.schema.json', import.meta.url));
/** Added to a .gitignore that is there already, rather than overwriting it. */
const GITIGNORE = '.gitignore';

export async function runInit(ctx: Context, options: InitOptions): Promise<InitResult> {
  const root = resolve(ctx.cwd, options.dir ?? '.');
  const templates = appTemplates();
  if (options.template !== undefined && !templates.includes(options.template)) {
    throw new FnError('USAGE', `there is no template "${options.template}"`, { hint: `pick one of: ${templates.join(', ')}` });
  }
  if (options.appId !== undefined && !APP_ID.test(options.appId)) {
    throw new FnError('USAGE', `--app-id "${options.appId}" is not a valid app id`, {
      hint: 'use letters, digits, "_" and "-", starting with a letter or digit',
    });
  }
  if (existsSync(join(root, CONFIG_FILE))) {
    throw new FnError('ALREADY_EXISTS', `${displayPath(ctx.cwd, root)} is already an fn app (${CONFIG_FILE} exists)`, {
      hint: 'run fn validate there',
    });
  }

  // An App Services export: adopt it, writing fn.config.json only.
  if (existsSync(join(root, 'functions', 'config.json')) && statSync(root).isDirectory()) {
    const fromExport = appIdFromExport(root);
    const [appId, appIdSource] = options.appId
      ? [options.appId, '--app-id']
      : fromExport && APP_ID.test(fromExport[0])
        ? fromExport
        : [defaultAppId(root), 'folder name'];
    const config = readTemplate('base', templateValues(root, appId)).find((f) => f.path === CONFIG_FILE)!;
    writeFileAtomic(join(root, CONFIG_FILE), config.text);
    return {
      ok: true,
      root: displayPath(ctx.cwd, root),
      appId,
      appIdSource,
      template: undefined,
      adopted: true,
      created: [CONFIG_FILE],
      updated: [],
      next: nextSteps(ctx, root, 'adopted'),
    };
  }

  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new FnError('USAGE', `${displayPath(ctx.cwd, root)} is a file, not a folder`, { hint: 'pass the folder to create the app in' });
  }

  let template = options.template;
  let appId = options.appId;
  if ((template === undefined || appId === undefined) && !options.yes && ctx.interactive) {
    const { createPrompter } = await import('../ui/prompt.js');
    const prompt = createPrompter(ctx, 'pass --app-id and --template, or --yes for the defaults');
    try {
      appId ??= await prompt.ask('App id', defaultAppId(root), (v) => (APP_ID.test(v) ? undefined : 'letters, digits, "_" and "-"'));
      template ??= await prompt.ask(`Template (${templates.join(', ')})`, 'example', (v) =>
        templates.includes(v) ? undefined : `one of ${templates.join(', ')}`,
      );
    } finally {
      prompt.close();
    }
  }
  template ??= 'example';
  const appIdSource = appId !== undefined ? '--app-id' : 'folder name';
  appId ??= defaultAppId(root);

  const values = templateValues(root, appId);
  const files = new Map<string, string>();
  for (const f of [...readTemplate('base', values), ...readTemplate(template, values)]) files.set(f.path, f.text);
  // A .gitignore that is there gets the lines it lacks; every other file must be new.
  const gitignore = files.get(GITIGNORE);
  const merged =
    gitignore !== undefined && existsSync(join(root, GITIGNORE))
      ? mergeIgnore(readFileSync(join(root, GITIGNORE), 'utf8'), gitignore)
      : undefined;
  if (merged !== undefined) files.delete(GITIGNORE);
  const inTheWay = [...files.keys()].map((path) => blocker(root, path)).filter((p): p is string => p !== undefined);
  if (inTheWay.length) {
    const names = [...new Set(inTheWay)].sort();
    throw new FnError(
      'ALREADY_EXISTS',
      `fn init would overwrite ${names.length === 1 ? 'a file' : `${names.length} files`} in ${displayPath(ctx.cwd, root)}: ${names.join(', ')}; nothing was written`,
      {
        hint: 'move or rename them, or run fn init <new-folder> to create the app in a folder of its own',
      },
    );
  }
  for (const [path, text] of files) writeFileAtomic(join(root, path), text);
  const updated = merged === undefined || merged === null ? [] : [GITIGNORE];
  if (merged) writeFileAtomic(join(root, GITIGNORE), merged);
  return {
    ok: true,
    root: displayPath(ctx.cwd, root),
    appId,
    appIdSource,
    template,
    adopted: false,
    created: [...files.keys()].sort(),
    updated,
    next: nextSteps(ctx, root, template === 'blank' ? 'blank' : 'example'),
  };
}

function templateValues(root: string, appId: string): Record<string, string> {
  // Filled inside a JSON string: escaped the way JSON writes it.
  return { appId, name: basename(root), schema: JSON.stringify(schemaRef(root)).slice(1, -1) };
}

/**
 * The `$schema` of fn.config.json, for editors: when this fn is installed in a node_modules of the
 * app's folder or of one above it (a dev dependency), the relative path to its schema, which holds
 * on every clone; otherwise (a global install, npx, a clone of fn) the schema's file URL.
 */
export function schemaRef(appRoot: string, schema = CONFIG_SCHEMA): string {
  const parts = relative(appRoot, schema).split(sep);
  const first = parts.findIndex((p) => p !== '..');
  if (first >= 0 && parts[first] === 'node_modules') return (first === 0 ? './' : '') + parts.join('/');
  return pathToFileURL(schema).href;
}

/** The existing path that writing `path` (relative to root) would overwrite or trip on, if any. */
function blocker(root: string, path: string): string | undefined {
  const full = join(root, path);
  if (existsSync(full)) return path;
  // A file where a folder must go.
  for (let dir = dirname(full); dir !== root && dir.startsWith(root); dir = dirname(dir)) {
    if (existsSync(dir) && !statSync(dir).isDirectory()) return relative(root, dir).split(sep).join('/');
  }
  return undefined;
}

/**
 * The user's .gitignore with the template's rules it lacks appended (with their comment), or null
 * when it has them all. Existing lines are kept byte for byte.
 */
export function mergeIgnore(existing: string, template: string): string | null {
  const norm = (line: string) => line.trim().replace(/^\//, '').replace(/\/$/, '');
  const have = new Set(existing.split(/\r?\n/).map(norm));
  const lines = template.split('\n').filter((l) => l.trim() !== '');
  const missing = lines.filter((l) => !l.startsWith('#') && !have.has(norm(l)));
  if (!missing.length) return null;
  const comments = lines.filter((l) => l.startsWith('#'));
  const eol = existing.includes('\r\n') ? '\r\n' : '\n';
  const head = existing === '' || existing.endsWith('\n') ? existing : existing + eol;
  return head + (head === '' ? '' : eol) + [...comments, ...missing].join(eol) + eol;
}

function defaultAppId(root: string): string {
  const slug = slugify(basename(root));
  return slug && APP_ID.test(slug) ? slug : 'app';
}

function nextSteps(ctx: Context, root: string, kind: 'example' | 'blank' | 'adopted'): string[] {
  const rel = displayPath(ctx.cwd, root);
  const steps = rel === '.' ? [] : [`cd ${/\s/.test(rel) ? JSON.stringify(rel) : rel}`];
  steps.push('fn validate');
  if (kind === 'blank') steps.push('fn add hello');
  steps.push('fn dev');
  if (kind === 'example') steps.push(`fn invoke calculateTotal --data '{"items":[{"price":2.5,"quantity":2}]}'`);
  if (kind === 'blank') steps.push(`fn invoke hello --data '{}'`);
  steps.push('fn types');
  return steps;
}

export function renderInit(result: InitResult, ui: Ui): void {
  if (result.adopted) {
    ui.out(
      `${ui.c.green('✔')} adopted the App Services export in ${ui.c.cyan(result.root)}: wrote ${CONFIG_FILE} (app id ${ui.c.cyan(result.appId)}, from ${result.appIdSource}); no other file was touched`,
    );
  } else {
    ui.out(
      `${ui.c.green('✔')} created an app in ${ui.c.cyan(result.root)} from the ${result.template} template (app id ${ui.c.cyan(result.appId)})`,
    );
    for (const f of result.created) ui.out(`  ${ui.c.dim('+')} ${f}`);
    for (const f of result.updated) ui.out(`  ${ui.c.dim('~')} ${f} (rules for fn added)`);
  }
  ui.out('');
  ui.out('Next:');
  for (const step of result.next) ui.out(`  ${step}`);
}
