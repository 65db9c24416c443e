// Questions on a terminal. Callers ask only when ctx.interactive is true; without a terminal a
// command uses its defaults or fails naming the flag to pass.
import { createInterface } from 'node:readline/promises';
import type { Context } from '../context.js';

export async function ask(ctx: Context, question: string, fallback: string, check?: (answer: string) => string | undefined): Promise<string> {
  const rl = createInterface({ input: ctx.stdin, output: process.stderr });
  try {
    for (;;) {
      const answer = (await rl.question(`${question} (${fallback}): `, { signal: ctx.signal })).trim() || fallback;
      const problem = check?.(answer);
      if (!problem) return answer;
      process.stderr.write(`  ${problem}\n`);
    }
  } finally {
    rl.close();
  }
}

export async function confirm(ctx: Context, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} (y/N): `, { signal: ctx.signal })).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}
