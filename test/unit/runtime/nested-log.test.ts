// A call's log shows its nested calls (context.functions.execute): a line when each starts and
// ends, and the callee's console output one level deeper.
import { describe, expect, it } from 'vitest';
import { AppSandbox } from '../../../src/runtime/sandbox.js';
import { bundleOf, callOf, fnDef } from './bundle-fixtures.js';

const sandbox = new AppSandbox(
  bundleOf('1', [
    fnDef(
      'outer',
      "exports = async function () {\n  console.log('before');\n  await context.functions.execute('audit', 1);\n  try { await context.functions.execute('fails'); } catch {}\n  console.log('after');\n  return 'ok';\n};\n",
    ),
    fnDef('audit', "exports = async function (n) {\n  console.log('audited', n);\n  return context.functions.execute('leaf');\n};\n", {
      runAsSystem: true,
    }),
    fnDef('leaf', "exports = function () {\n  console.warn('leaf');\n};\n"),
    fnDef('fails', "exports = function () {\n  throw new Error('nope');\n};\n"),
  ]),
);

describe('nested calls in the call log', () => {
  it('marks where each starts and ends, and indents what it writes', async () => {
    const { outcome } = await sandbox.run(callOf('outer'));
    expect(outcome.ok).toBe(true);
    expect(outcome.logs.map((l) => ({ ...l, message: l.message.replace(/\d+(\.\d+)?ms$/, 'Nms') }))).toEqual([
      { level: 'log', message: 'before' },
      { level: 'info', message: '→ audit (as system)', call: 'audit' },
      { level: 'log', message: 'audited 1', depth: 1 },
      { level: 'info', message: '→ leaf', call: 'leaf', depth: 1 },
      { level: 'warn', message: 'leaf', depth: 2 },
      { level: 'info', message: '← leaf Nms', call: 'leaf', depth: 1 },
      { level: 'info', message: '← audit Nms', call: 'audit' },
      { level: 'info', message: '→ fails', call: 'fails' },
      { level: 'error', message: '✖ fails threw: nope', call: 'fails' },
      { level: 'log', message: 'after' },
    ]);
  });
});
