// fn init [dir]: a working app from a template, or fn.config.json alone inside an existing
// App Services export. Never overwrites a user's file.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
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
  next: string[];
}

const APP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** Files that do not make a folder "non-empty". */
const IGNORABLE = new Set(['.git', '.DS_Store', 'Thumbs.db', '.idea', '.vscode']);

export async function runInit(ctx: Context, options: InitOptions): Promise<InitResult> {
  const root = resolve(ctx.cwd, options.dir ?? '.');
  const templates = appTemplates();
  if (options.template !== undefined && !templates.includes(options.template)) {
    throw new FnError('USAGE', `there is no template "${options.template}"`, { hint: `pick one of: ${templates.join(', ')}` });
  }
  if (options.appId !== undefined && !APP_ID.test(options.appId)) {
    throw new FnError('USAGE', `--app-id "${options.appId}" is not a valid app id`, { hint: 'use letters, digits, "_" and "-", starting with a letter or digit' });
  }
  if (existsSync(join(root, CONFIG_FILE))) {
    throw new FnError('CHECK_FAILED', `${displayPath(ctx.cwd, root)} is already an fn app (${CONFIG_FILE} exists)`, { hint: 'run fn validate there' });
  }

  // An App Services export: adopt it, writing fn.config.json only.
  if (existsSync(join(root, 'functions', 'config.json')) && statSync(root).isDirectory()) {
    const fromExport = appIdFromExport(root);
    const [appId, appIdSource] = options.appId ? [options.appId, '--app-id'] : fromExport && APP_ID.test(fromExport[0]) ? fromExport : [defaultAppId(root), 'folder name'];
    const config = readTemplate('base', { appId }).find((f) => f.path === CONFIG_FILE)!;
    writeFileAtomic(join(root, CONFIG_FILE), config.text);
    return { ok: true, root: displayPath(ctx.cwd, root), appId, appIdSource, template: undefined, adopted: true, created: [CONFIG_FILE], next: nextSteps(ctx, root, 'adopted') };
  }

  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new FnError('USAGE', `${displayPath(ctx.cwd, root)} is a file, not a folder`, { hint: 'pass the folder to create the app in' });
  }
  if (existsSync(root)) {
    const present = readdirSync(root).filter((n) => !IGNORABLE.has(n));
    if (present.length) {
      throw new FnError('CHECK_FAILED', `${displayPath(ctx.cwd, root)} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}) and is not an App Services export`, {
        hint: 'run fn init <new-folder>, or run it inside an export (a folder with functions/config.json) to adopt it',
      });
    }
  }

  let template = options.template;
  let appId = options.appId;
  if ((template === undefined || appId === undefined) && !options.yes && ctx.interactive) {
    const { createPrompter } = await import('../ui/prompt.js');
    const prompt = createPrompter(ctx, 'pass --app-id and --template, or --yes for the defaults');
    try {
      appId ??= await prompt.ask('App id', defaultAppId(root), (v) => (APP_ID.test(v) ? undefined : 'letters, digits, "_" and "-"'));
      template ??= await prompt.ask(`Template (${templates.join(', ')})`, 'example', (v) => (templates.includes(v) ? undefined : `one of ${templates.join(', ')}`));
    } finally {
      prompt.close();
    }
  }
  template ??= 'example';
  const appIdSource = appId !== undefined ? '--app-id' : 'folder name';
  appId ??= defaultAppId(root);

  const values = { appId, name: basename(root) };
  const files = new Map<string, string>();
  for (const f of [...readTemplate('base', values), ...readTemplate(template, values)]) files.set(f.path, f.text);
  mkdirSync(root, { recursive: true });
  for (const [path, text] of files) writeFileAtomic(join(root, path), text);
  return { ok: true, root: displayPath(ctx.cwd, root), appId, appIdSource, template, adopted: false, created: [...files.keys()].sort(), next: nextSteps(ctx, root, template === 'blank' ? 'blank' : 'example') };
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
    ui.out(`${ui.c.green('✔')} adopted the App Services export in ${ui.c.cyan(result.root)}: wrote ${CONFIG_FILE} (app id ${ui.c.cyan(result.appId)}, from ${result.appIdSource}); no other file was touched`);
  } else {
    ui.out(`${ui.c.green('✔')} created an app in ${ui.c.cyan(result.root)} from the ${result.template} template (app id ${ui.c.cyan(result.appId)})`);
    for (const f of result.created) ui.out(`  ${ui.c.dim('+')} ${f}`);
  }
  ui.out('');
  ui.out('Next:');
  for (const step of result.next) ui.out(`  ${step}`);
}

