// Questions on a terminal. Callers ask only when ctx.interactive is true; without a terminal a
// command uses its defaults or fails naming the flag to pass. One reader serves every question,
// so answers typed ahead are kept.
import { createInterface, type Interface } from 'node:readline/promises';
import type { Context } from '../context.js';
import { FnError } from '../errors.js';

export interface Prompter {
  ask(question: string, fallback: string, check?: (answer: string) => string | undefined): Promise<string>;
  confirm(question: string): Promise<boolean>;
  close(): void;
}

export function createPrompter(ctx: Context, flagHint: string): Prompter {
  const rl: Interface = createInterface({ input: ctx.stdin, output: ctx.stderr });
  let closed = false;
  rl.on('close', () => (closed = true));
  const question = async (text: string): Promise<string> => {
    if (closed) throw new FnError('USAGE', 'no answer (the input ended)', { hint: flagHint });
    try {
      return await rl.question(text, { signal: ctx.signal });
    } catch (error) {
      const message = (error as Error).message ?? '';
      if (ctx.signal.aborted || /Ctrl\+C/.test(message)) throw new FnError('INTERRUPTED', 'interrupted');
      throw new FnError('USAGE', 'no answer (the input ended)', { hint: flagHint });
    }
  };
  return {
    async ask(text, fallback, check) {
      for (;;) {
        const answer = (await question(`${text} (${fallback}): `)).trim() || fallback;
        const problem = check?.(answer);
        if (!problem) return answer;
        ctx.stderr.write(`  ${problem}\n`);
      }
    },
    async confirm(text) {
      const answer = (await question(`${text} (y/N): `)).trim().toLowerCase();
      return answer === 'y' || answer === 'yes';
    },
    close: () => rl.close(),
  };
}

export async function confirm(ctx: Context, question: string, flagHint = 'pass --yes'): Promise<boolean> {
  const p = createPrompter(ctx, flagHint);
  try {
    return await p.confirm(question);
  } finally {
    p.close();
  }
}

/**
 * Asks for a secret on a terminal: what is typed is not echoed. Enter ends it; Ctrl-C interrupts;
 * Backspace takes back a character. Callers ask only when ctx.interactive is true.
 */
export async function askHidden(ctx: Context, question: string): Promise<string> {
  const input = ctx.stdin as NodeJS.ReadStream;
  ctx.stderr.write(question);
  const wasRaw = input.isRaw === true;
  input.setRawMode?.(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const finish = (error?: FnError) => {
      input.off('data', onData);
      input.off('end', onEnd);
      ctx.signal.removeEventListener('abort', onAbort);
      input.setRawMode?.(wasRaw);
      input.pause();
      ctx.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new FnError('INTERRUPTED', 'interrupted'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    const onEnd = () => finish();
    const onAbort = () => finish(new FnError('INTERRUPTED', 'interrupted'));
    input.on('data', onData);
    input.on('end', onEnd);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}
