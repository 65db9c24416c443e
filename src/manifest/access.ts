// Who may call a function and as whom it runs, before and after a change: what a push must call
// out because it lets more callers in or changes the identity a function runs with. Tightening
// (a new can_evaluate, private again) is not called out.
import { canonicalJson, type AppState, type Plan } from './hash.js';
import { resolveEntry, type CanEvaluate } from './load.js';

/** As whom a function runs: the caller, the system user, a fixed user, or the id a script returns. */
export type RunAs = { caller: true } | { system: true } | { userId: string } | { script: string };

export type AccessChange =
  /** A function that did not exist, that clients can call. */
  | { function: string; change: 'new-public' }
  /** Was private (callable only by other functions), now clients can call it. */
  | { function: string; change: 'made-public' }
  /** A can_evaluate condition is gone: any caller may call it. */
  | { function: string; change: 'can-evaluate-removed'; from: CanEvaluate; to: CanEvaluate }
  /** A different can_evaluate condition, which may let other callers in. */
  | { function: string; change: 'can-evaluate-changed'; from: CanEvaluate; to: CanEvaluate }
  /** It runs as someone else; `from` is absent for a new function. */
  | { function: string; change: 'run-as'; from?: RunAs; to: RunAs };

interface Access {
  private: boolean;
  canEvaluate: CanEvaluate;
  runAs: RunAs;
}

/** The access of a function from its state's entry (canonical JSON; null: no entry, the defaults). */
export function accessOf(entry: string | null): Access {
  let raw: unknown = { name: '-' };
  if (entry !== null) {
    try {
      raw = JSON.parse(entry) as unknown;
    } catch {
      raw = { name: '-' };
    }
  }
  const fields = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {};
  const e = resolveEntry({ ...fields, name: '-' }, 0, new Map());
  const runAs: RunAs = e.runAsSystem
    ? { system: true }
    : e.runAsUserId !== ''
      ? { userId: e.runAsUserId }
      : e.runAsUserIdScriptSource !== ''
        ? { script: e.runAsUserIdScriptSource }
        : { caller: true };
  return { private: e.private, canEvaluate: e.canEvaluate, runAs };
}

/** `{}` and `true` let every caller in. */
export function allowsAnyone(expr: CanEvaluate): boolean {
  return expr === true || (typeof expr === 'object' && Object.keys(expr).length === 0);
}

/** The changes of a plan (from `from` to `to`) that let more callers in or change who a function runs as. */
export function accessChanges(from: AppState, to: AppState, plan: Plan): AccessChange[] {
  const out: AccessChange[] = [];
  for (const name of plan.added) {
    const next = accessOf(to[name]!.entry);
    if (!next.private) out.push({ function: name, change: 'new-public' });
    if (!('caller' in next.runAs)) out.push({ function: name, change: 'run-as', to: next.runAs });
  }
  for (const { name, entry } of plan.changed) {
    if (!entry) continue;
    const before = accessOf(from[name]!.entry);
    const after = accessOf(to[name]!.entry);
    if (before.private && !after.private) out.push({ function: name, change: 'made-public' });
    if (canonicalJson(before.canEvaluate) !== canonicalJson(after.canEvaluate) && !allowsAnyone(before.canEvaluate)) {
      out.push({
        function: name,
        change: allowsAnyone(after.canEvaluate) ? 'can-evaluate-removed' : 'can-evaluate-changed',
        from: before.canEvaluate,
        to: after.canEvaluate,
      });
    }
    if (canonicalJson(before.runAs) !== canonicalJson(after.runAs))
      out.push({ function: name, change: 'run-as', from: before.runAs, to: after.runAs });
  }
  return out.sort((a, b) => (a.function < b.function ? -1 : a.function > b.function ? 1 : 0));
}

export function describeRunAs(runAs: RunAs): string {
  if ('system' in runAs) return 'the system user';
  if ('userId' in runAs) return `user ${runAs.userId}`;
  if ('script' in runAs) return 'the user its script returns';
  return 'the caller';
}

/** One line for a person: what changed, and what it was. */
export function describeAccessChange(change: AccessChange): string {
  switch (change.change) {
    case 'new-public':
      return 'new and public: clients can call it';
    case 'made-public':
      return 'made public (was private): clients can call it';
    case 'can-evaluate-removed':
      return `can_evaluate removed (was ${JSON.stringify(change.from)}): any caller may call it`;
    case 'can-evaluate-changed':
      return `can_evaluate changed from ${JSON.stringify(change.from)} to ${JSON.stringify(change.to)}`;
    case 'run-as':
      if ('script' in change.to && change.from && 'script' in change.from) return 'runs as the user a changed script returns';
      return `runs as ${describeRunAs(change.to)}${change.from ? ` (was ${describeRunAs(change.from)})` : ''}`;
  }
}
