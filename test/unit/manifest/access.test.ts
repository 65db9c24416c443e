// src/manifest/access.ts: which changes of a plan let more callers in or change who a function
// runs as. Tightening is never marked; a source whose entry goes runs with the defaults.
import { describe, expect, it } from 'vitest';
import { accessChanges, accessOf, allowsAnyone, describeAccessChange } from '../../../src/manifest/access.js';
import { canonicalJson, diffStates, type AppState } from '../../../src/manifest/hash.js';

const state = (entries: Record<string, object | null>): AppState =>
  Object.fromEntries(
    Object.entries(entries).map(([name, e]) => [name, { hash: 'h', entry: e === null ? null : canonicalJson({ name, ...e }) }]),
  );
const changes = (from: Record<string, object | null>, to: Record<string, object | null>) => {
  const [a, b] = [state(from), state(to)];
  return accessChanges(a, b, diffStates(a, b));
};

describe('accessOf', () => {
  it('applies the defaults to no entry: public, any caller, as the caller', () => {
    expect(accessOf(null)).toEqual({ private: false, canEvaluate: {}, runAs: { caller: true } });
  });

  it('reads run-as in App Services order: system, then a user id, then a script; empty strings are unset', () => {
    expect(accessOf(canonicalJson({ name: 'a', run_as_system: true, run_as_user_id: 'u' })).runAs).toEqual({ system: true });
    expect(accessOf(canonicalJson({ name: 'a', run_as_user_id: 'u', run_as_user_id_script_source: 's' })).runAs).toEqual({ userId: 'u' });
    expect(accessOf(canonicalJson({ name: 'a', run_as_user_id: '', run_as_user_id_script_source: 's' })).runAs).toEqual({ script: 's' });
  });

  it('fails closed on a private of the wrong type', () => {
    expect(accessOf(canonicalJson({ name: 'a', private: 'yes' })).private).toBe(true);
  });
});

describe('accessChanges', () => {
  it('marks new public functions, and new ones that run as someone else', () => {
    expect(changes({}, { a: {}, b: { private: true }, c: { private: true, run_as_system: true } })).toEqual([
      { function: 'a', change: 'new-public' },
      { function: 'c', change: 'run-as', to: { system: true } },
    ]);
  });

  it('marks private → public, also when the entry goes (the defaults)', () => {
    expect(changes({ a: { private: true }, b: { private: true } }, { a: { private: false }, b: null })).toEqual([
      { function: 'a', change: 'made-public' },
      { function: 'b', change: 'made-public' },
    ]);
  });

  it('marks a can_evaluate removed or changed, not one added', () => {
    const cond = { '%%user.type': 'server' };
    expect(
      changes(
        { a: { can_evaluate: cond }, b: { can_evaluate: cond }, c: {} },
        { a: {}, b: { can_evaluate: { '%%true': true } }, c: { can_evaluate: cond } },
      ),
    ).toEqual([
      { function: 'a', change: 'can-evaluate-removed', from: cond, to: {} },
      { function: 'b', change: 'can-evaluate-changed', from: cond, to: { '%%true': true } },
    ]);
  });

  it('marks every change of run-as, a changed script included; not a source-only change', () => {
    expect(
      changes(
        { a: { run_as_system: true }, b: { run_as_user_id_script_source: 'x' }, c: {} },
        { a: {}, b: { run_as_user_id_script_source: 'y' }, c: {} },
      ),
    ).toEqual([
      { function: 'a', change: 'run-as', from: { system: true }, to: { caller: true } },
      { function: 'b', change: 'run-as', from: { script: 'x' }, to: { script: 'y' } },
    ]);
  });

  it('marks nothing for tightening or deleting', () => {
    expect(changes({ a: {}, b: {}, c: {} }, { a: { private: true }, b: { can_evaluate: { '%%user.id': 'u' } } })).toEqual([]);
  });
});

describe('describeAccessChange', () => {
  it('says what changed and what it was', () => {
    expect(describeAccessChange({ function: 'a', change: 'run-as', from: { caller: true }, to: { userId: 'u9' } })).toBe(
      'runs as user u9 (was the caller)',
    );
    expect(describeAccessChange({ function: 'a', change: 'run-as', from: { script: 'x' }, to: { script: 'y' } })).toBe(
      'runs as the user a changed script returns',
    );
    expect(allowsAnyone(true)).toBe(true);
    expect(allowsAnyone(false)).toBe(false);
  });
});
