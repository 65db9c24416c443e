// A failing call's stack, as the worker cuts it: the frames in the app's own files, with the
// user's line and column, nothing of fn or Node; none for a thrown value without a stack.
import { describe, expect, it } from 'vitest';
import { AppSandbox } from '../../../src/runtime/sandbox.js';
import type { CallOutcome } from '../../../src/runtime/types.js';
import { bundleOf, callOf, fnDef } from './bundle-fixtures.js';

const sandbox = new AppSandbox(
  bundleOf('1', [
    fnDef('boom', 'function helper(x) {\n  return x.notThere;\n}\nexports = function (args) {\n  return helper(args.missing);\n};\n'),
    fnDef('outer', "exports = async function () {\n  return await context.functions.execute('boom', {});\n};\n"),
    fnDef('plain', "exports = function () {\n  throw 'just a string';\n};\n"),
    fnDef('sneaky', "exports = function () {\n  throw { message: 'no stack', get stack() { throw new Error('read me not'); } };\n};\n"),
    fnDef('script', 'exports = () => 1;', {
      runAsUserIdScriptSource: "exports = function () {\n  throw new Error('no user');\n};\n",
      file: 'fns/script.js',
    }),
  ]),
);

const errorOf = async (name: string): Promise<NonNullable<CallOutcome['error']>> => {
  const { outcome } = await sandbox.run(callOf(name));
  if (outcome.ok) throw new Error(`${name} answered, it was to fail`);
  return outcome.error;
};

describe('stacks of failing calls', () => {
  it("keeps the app's frames with the user's line and column, and cuts fn's", async () => {
    const error = await errorOf('boom');
    expect(error.stack).toEqual(['at helper (functions/boom.js:2:12)', 'at exports (functions/boom.js:5:10)']);
  });

  it('shows the frames of a function called through context.functions.execute', async () => {
    const error = await errorOf('outer');
    expect(error.stack?.[0]).toBe('at helper (functions/boom.js:2:12)');
    expect(error.stack?.every((f) => /\((functions\/(boom|outer)\.js):\d+:\d+\)$/.test(f))).toBe(true);
  });

  it('names a run-as script by its function file', async () => {
    const error = await errorOf('script');
    expect(error.message).toContain('run_as_user_id_script_source of "script" threw: no user');
    expect(error.stack).toEqual(['at exports (fns/script.js#run_as_user_id_script_source:2:9)']);
  });

  it('has no stack for a thrown string, nor for an object whose stack cannot be read', async () => {
    expect((await errorOf('plain')).stack).toBeUndefined();
    const sneaky = await errorOf('sneaky');
    expect(sneaky.message).toContain('no stack');
    expect(sneaky.stack).toBeUndefined();
  });
});
