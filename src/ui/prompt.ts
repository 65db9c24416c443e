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
