// fn secrets set|list|unset: the secrets that values with "from_secret" read. Without --remote they
// are fn dev's and invoke --local's, in .fn/secrets.json (0600, written whole); with --remote they
// are a deployed app's, kept by fn serve in its data dir. A value is taken from the argument,
// from standard input (--stdin) or from a hidden prompt on a terminal, and is never printed.
import { relative } from 'node:path';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';
import { findAppRoot, requireAppRoot } from '../project/find-root.js';
import { loadProjectAt } from '../project/load-project.js';
import { localSecretsPath, SecretsFile, secretNameProblem, secretValueProblem, type SecretInfo } from '../project/secrets.js';
import { secretsClient } from '../remote/secrets.js';
import type { Ui } from '../ui/ui.js';
import { connect, type TargetFlags } from './sync.js';

export type SecretsAction = 'set' | 'list' | 'unset';

export interface SecretsOptions extends Omit<TargetFlags, 'remote'> {
  action: SecretsAction;
  name?: string;
  value?: string;
  /** Read the value from standard input. */
  stdin?: boolean;
  /** The deployed app (a remote of fn.config.json, or true for the default). */
  remote?: string | boolean;
}

export interface SecretsHooks {
  /** Asks for the value on a terminal, echoing nothing. */
  askValue?: (name: string) => Promise<string>;
}

export interface SecretsResult {
  ok: true;
  action: SecretsAction;
  /** "local" (.fn/secrets.json), or the URL of the server. */
  where: string;
  appId?: string;
  /** The local file, relative to the working folder. */
  file?: string;
  name?: string;
  /** set: it did not exist before. */
  created?: boolean;
  updatedAt?: string;
  /** list: names and update times, never values. */
  secrets?: SecretInfo[];
}

export async function runSecrets(ctx: Context, options: SecretsOptions, hooks: SecretsHooks = {}): Promise<SecretsResult> {
  const { action } = options;
  if (action === 'list') {
    if (options.name !== undefined) throw new FnError('USAGE', 'fn secrets list takes no name', { hint: 'fn secrets list' });
    if (options.stdin) throw new FnError('USAGE', '--stdin goes with fn secrets set only');
  } else {
    if (options.name === undefined)
      throw new FnError('USAGE', `fn secrets ${action} needs the secret's name`, { hint: `fn secrets ${action} <name>` });
    const problem = secretNameProblem(options.name);
    if (problem) throw new FnError('USAGE', problem);
    if (action === 'unset' && (options.value !== undefined || options.stdin))
      throw new FnError('USAGE', 'fn secrets unset takes a name only', { hint: `fn secrets unset ${options.name}` });
  }
  const name = options.name;
  const value = action === 'set' ? await valueOf(ctx, options, hooks) : undefined;
  const remote = (options.remote !== undefined && options.remote !== false) || options.url !== undefined;

  if (!remote) {
    const found = requireAppRoot(ctx.cwd);
    const path = localSecretsPath(found.root);
    const file = new SecretsFile(path);
    const base = { ok: true as const, action, where: 'local', file: relative(ctx.cwd, path).split('\\').join('/') || path };
    if (action === 'list') return { ...base, secrets: file.list() };
    if (action === 'set') return { ...base, name: name!, ...file.set(name!, value!) };
    if (!file.unset(name!))
      throw new FnError('NOT_FOUND', `there is no secret "${name}" in ${base.file}`, {
        hint: 'fn secrets list shows the secrets set here',
      });
    return { ...base, name: name! };
  }

  const found = findAppRoot(ctx.cwd);
  const project = found ? loadProjectAt(found.root, found.configPath) : undefined;
  const { remote: target, serviceKey } = connect(
    ctx,
    { ...options, remote: typeof options.remote === 'string' ? options.remote : undefined },
    project,
  );
  const client = secretsClient(target, serviceKey, options.timeout, ctx.signal);
  const base = { ok: true as const, action, where: target.url, appId: target.appId };
  if (action === 'list') return { ...base, secrets: await client.list() };
  if (action === 'set') return { ...base, name: name!, ...(await client.set(name!, value!)) };
  if (!(await client.unset(name!)))
    throw new FnError('NOT_FOUND', `${target.appId} at ${target.url} has no secret "${name}"`, {
      hint: 'fn secrets list --remote shows its secrets',
    });
  return { ...base, name: name! };
}

/** The value to set: the argument, standard input (--stdin), or a hidden prompt on a terminal. */
async function valueOf(ctx: Context, options: SecretsOptions, hooks: SecretsHooks): Promise<string> {
  let value: string;
  if (options.value !== undefined && options.stdin)
    throw new FnError('USAGE', 'give the value as an argument or with --stdin, not both', {
      hint: `fn secrets set ${options.name} --stdin`,
    });
  if (options.value !== undefined) value = options.value;
  else if (options.stdin) value = (await readAll(ctx.stdin)).replace(/\r?\n$/, '');
  else if (ctx.interactive && hooks.askValue) value = await hooks.askValue(options.name!);
  else
    throw new FnError('USAGE', `no value for secret "${options.name}", and no terminal to ask on`, {
      hint: `pipe it in: printf %s "$VALUE" | fn secrets set ${options.name} --stdin`,
    });
  const problem = secretValueProblem(value);
  if (problem) throw new FnError('USAGE', `secret "${options.name}": ${problem}`);
  return value;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export function renderSecrets(result: SecretsResult, ui: Ui): void {
  const c = ui.c;
  const where = result.where === 'local' ? (result.file ?? '.fn/secrets.json') : `${result.appId} at ${result.where}`;
  switch (result.action) {
    case 'list': {
      const list = result.secrets ?? [];
      if (!list.length) {
        ui.out(`no secrets in ${where}`);
        return;
      }
      const width = Math.max(...list.map((s) => s.name.length));
      for (const s of list) ui.out(`${c.cyan(s.name.padEnd(width))}  ${c.dim(`updated ${s.updatedAt || 'unknown'}`)}`);
      return;
    }
    case 'set':
      ui.out(
        `${c.green('✔')} secret ${c.cyan(result.name!)} ${result.created ? 'set' : 'updated'} in ${where}${result.where === 'local' ? c.dim(' (fn dev reads it from the next call on)') : ''}`,
      );
      return;
    case 'unset':
      ui.out(`${c.green('✔')} secret ${c.cyan(result.name!)} removed from ${where}`);
      return;
  }
}
