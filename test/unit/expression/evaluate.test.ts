import { describe, it, expect } from 'vitest';
import { evaluateExpression, expandValue } from '../../../src/expression/evaluate.js';
import type { ExpressionEnv } from '../../../src/expression/evaluate.js';

const user = {
  id: 'u1',
  type: 'normal',
  data: { email: 'a@example.com', tags: ['x', 'y'] },
  custom_data: { status: 'ACTIVE', level: 3 },
  identities: [{ id: 'p1', providerType: 'local-userpass' }],
};
const request = {
  remoteIPAddress: '10.0.0.1',
  httpMethod: 'POST',
  requestHeaders: { 'X-Key': ['k1'] },
};
const baseEnv: ExpressionEnv = {
  user,
  request,
  values: { admin_ids: ['u0', 'u1'], allowedClientIPAddresses: ['10.0.0.1', '10.0.0.2'], limit: 10, flag: true },
  environment: { tag: 'production', values: { baseUrl: 'https://example.com' } },
  args: { owner: 'u1', someNumber: 7, body: { userId: 'u1' }, list: ['a', 'b'] },
};

function env(overrides: Partial<ExpressionEnv> = {}): ExpressionEnv {
  return { ...baseEnv, ...overrides };
}

describe('literals and structure', () => {
  it('boolean literals evaluate to themselves', async () => {
    expect(await evaluateExpression(true, env())).toBe(true);
    expect(await evaluateExpression(false, env())).toBe(false);
  });

  it('{} is true', async () => {
    expect(await evaluateExpression({}, {})).toBe(true);
  });

  it('multiple keys are an AND', async () => {
    expect(await evaluateExpression({ '%%user.id': 'u1', '%%user.type': 'normal' }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.id': 'u1', '%%user.type': 'server' }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.id': 'u2', '%%user.type': 'normal' }, env())).toBe(false);
  });

  it('throws on a non-expression', async () => {
    await expect(evaluateExpression('x', env())).rejects.toThrow('must be a boolean or an object');
    await expect(evaluateExpression(null, env())).rejects.toThrow('not null');
  });
});

describe('corpus shapes', () => {
  it('{ "%%user.type": "server" }', async () => {
    expect(await evaluateExpression({ '%%user.type': 'server' }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.type': 'server' }, env({ user: { ...user, type: 'server' } }))).toBe(true);
    expect(await evaluateExpression({ '%%user.type': 'server' }, {})).toBe(false);
  });

  it('IP deny list with $nin', async () => {
    const expr = { '%%request.remoteIPAddress': { $nin: ['218.3.246.114', '63.76.252.182', '253.105.104.43'] } };
    expect(await evaluateExpression(expr, env())).toBe(true);
    expect(await evaluateExpression(expr, env({ request: { remoteIPAddress: '63.76.252.182' } }))).toBe(false);
  });
});

describe('documented examples', () => {
  it('owner + $in against %%values', async () => {
    const expr = { owner: '%%user.id', '%%request.remoteIPAddress': { $in: '%%values.allowedClientIPAddresses' } };
    expect(await evaluateExpression(expr, env())).toBe(true);
    expect(await evaluateExpression(expr, env({ request: { remoteIPAddress: '1.1.1.1' } }))).toBe(false);
    expect(await evaluateExpression(expr, env({ args: { owner: 'someone-else' } }))).toBe(false);
  });

  it('%%environment tag and values with %exists', async () => {
    const expr = { '%%environment.tag': 'production', '%%environment.values.baseUrl': { '%exists': true } };
    expect(await evaluateExpression(expr, env())).toBe(true);
    expect(await evaluateExpression(expr, env({ environment: { tag: 'production', values: {} } }))).toBe(false);
    expect(await evaluateExpression(expr, env({ environment: { tag: 'dev', values: { baseUrl: 'x' } } }))).toBe(false);
  });

  it('admin ids via $in', async () => {
    const expr = { '%%user.id': { $in: '%%values.admin_ids' } };
    expect(await evaluateExpression(expr, env())).toBe(true);
    expect(await evaluateExpression(expr, env({ user: { id: 'u9' } }))).toBe(false);
  });

  it('custom_data with an array field containing the user id', async () => {
    const expr = { '%%user.custom_data.status': 'ACTIVE', members: '%%user.id' };
    expect(await evaluateExpression(expr, env({ args: { members: ['u0', 'u1'] } }))).toBe(true);
    expect(await evaluateExpression(expr, env({ args: { members: ['u0'] } }))).toBe(false);
  });

  it('%%true + %function: allowed, denied, throwing, missing callFunction', async () => {
    const expr = { '%%true': { '%function': { name: 'isAuthorizedUser', arguments: ['%%user.id'] } } };
    const calls: [string, unknown[]][] = [];
    const allow: ExpressionEnv['callFunction'] = async (name, args) => {
      calls.push([name, args]);
      return args[0] === 'u1';
    };
    expect(await evaluateExpression(expr, env({ callFunction: allow }))).toBe(true);
    expect(calls).toEqual([['isAuthorizedUser', ['u1']]]);
    expect(await evaluateExpression(expr, env({ user: { id: 'u2' }, callFunction: allow }))).toBe(false);
    const boom: ExpressionEnv['callFunction'] = async () => {
      throw new Error('boom');
    };
    expect(await evaluateExpression(expr, env({ callFunction: boom }))).toBe(false);
    expect(await evaluateExpression(expr, env())).toBe(false);
  });

  it('%%true requires exactly true; %%false requires exactly false', async () => {
    const call =
      (value: unknown): ExpressionEnv['callFunction'] =>
      async () =>
        value;
    const t = { '%%true': { '%function': { name: 'f' } } };
    const f = { '%%false': { '%function': { name: 'f' } } };
    expect(await evaluateExpression(t, env({ callFunction: call(1) }))).toBe(false);
    expect(await evaluateExpression(t, env({ callFunction: call('yes') }))).toBe(false);
    expect(await evaluateExpression(f, env({ callFunction: call(false) }))).toBe(true);
    expect(await evaluateExpression(f, env({ callFunction: call(true) }))).toBe(false);
    expect(await evaluateExpression(f, env({ callFunction: call(undefined) }))).toBe(false);
    const boom: ExpressionEnv['callFunction'] = async () => {
      throw new Error('boom');
    };
    expect(await evaluateExpression(f, env({ callFunction: boom }))).toBe(false);
  });

  it('%function without arguments gets an empty list; arguments are expanded deeply', async () => {
    const calls: unknown[][] = [];
    const record: ExpressionEnv['callFunction'] = async (_name, args) => {
      calls.push(args);
      return true;
    };
    await evaluateExpression({ '%%true': { '%function': { name: 'f' } } }, env({ callFunction: record }));
    await evaluateExpression(
      { '%%true': { '%function': { name: 'f', arguments: [{ who: '%%user.id', ips: ['%%request.remoteIPAddress'] }, 42] } } },
      env({ callFunction: record }),
    );
    expect(calls).toEqual([[], [{ who: 'u1', ips: ['10.0.0.1'] }, 42]]);
  });

  it('%function as an operator compares the field with the return value', async () => {
    const callFunction: ExpressionEnv['callFunction'] = async () => 'normal';
    expect(await evaluateExpression({ '%%user.type': { '%function': { name: 'f' } } }, env({ callFunction }))).toBe(true);
    expect(await evaluateExpression({ '%%user.id': { '%function': { name: 'f' } } }, env({ callFunction }))).toBe(false);
  });

  it('%function as a key of an expression is true when it returns true', async () => {
    const yes: ExpressionEnv['callFunction'] = async () => true;
    const no: ExpressionEnv['callFunction'] = async () => 'true';
    expect(await evaluateExpression({ '%function': { name: 'f' } }, env({ callFunction: yes }))).toBe(true);
    expect(await evaluateExpression({ '%function': { name: 'f' } }, env({ callFunction: no }))).toBe(false);
  });

  it('%or of expressions', async () => {
    const expr = { '%or': [{ '%%user.type': 'server' }, { '%%user.id': { $in: '%%values.admin_ids' } }] };
    expect(await evaluateExpression(expr, env())).toBe(true);
    expect(await evaluateExpression(expr, env({ user: { id: 'u9', type: 'normal' } }))).toBe(false);
    expect(await evaluateExpression(expr, env({ user: { id: 'u9', type: 'server' } }))).toBe(true);
  });

  it('%or with %%prevRoot (no value in a function) is decided by the other branch', async () => {
    const expr = { '%or': [{ '%%prevRoot': { '%exists': false } }, { '%%root.status': 'new' }] };
    expect(await evaluateExpression(expr, env())).toBe(true);
    expect(await evaluateExpression({ '%%prevRoot': { '%exists': '%%true' } }, env())).toBe(false);
  });

  it('%stringToOid returns its expanded argument', async () => {
    expect(await evaluateExpression({ _id: { '%stringToOid': '%%user.id' } }, env({ args: { _id: 'u1' } }))).toBe(true);
    expect(await evaluateExpression({ _id: { '%stringToOid': '%%user.id' } }, env({ args: { _id: 'u2' } }))).toBe(false);
  });

  it('embedded %and of operators', async () => {
    const expr = { '%%args.someNumber': { '%and': [{ $gt: 0 }, { $lte: 42 }] } };
    expect(await evaluateExpression(expr, env())).toBe(true);
    expect(await evaluateExpression(expr, env({ args: { someNumber: 43 } }))).toBe(false);
    expect(await evaluateExpression(expr, env({ args: { someNumber: 0 } }))).toBe(false);
  });

  it('%%args with $exists and nested paths', async () => {
    const expr = { '%%args.url': { $exists: true }, '%%args.body.userId': '%%user.id' };
    expect(await evaluateExpression(expr, env({ args: { url: 'x', body: { userId: 'u1' } } }))).toBe(true);
    expect(await evaluateExpression(expr, env({ args: { body: { userId: 'u1' } } }))).toBe(false);
  });
});

describe('operators', () => {
  it('$exists / %exists true and false', async () => {
    expect(await evaluateExpression({ '%%user.data.email': { $exists: true } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.data.phone': { $exists: true } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.data.phone': { '%exists': false } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.data.email': { '%exists': false } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.data.email': { $exists: 'yes' } }, env())).toBe(false);
  });

  it('$in / %in / $nin / %nin with literal lists', async () => {
    expect(await evaluateExpression({ '%%user.id': { $in: ['u1', 'u2'] } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.id': { '%in': ['u3'] } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.id': { $nin: ['u3'] } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.id': { '%nin': ['u1'] } }, env())).toBe(false);
  });

  it('$in list items may be expansions', async () => {
    expect(await evaluateExpression({ owner: { $in: ['x', '%%user.id'] } }, env())).toBe(true);
  });

  it('$in with an array on the left matches if any element is in the list', async () => {
    expect(await evaluateExpression({ '%%user.data.tags': { $in: ['y', 'z'] } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.data.tags': { $in: ['z'] } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.data.tags': { $nin: ['z'] } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.data.tags': { $nin: ['x'] } }, env())).toBe(false);
  });

  it('$in / $nin whose list does not resolve to an array are false', async () => {
    expect(await evaluateExpression({ '%%user.id': { $in: '%%values.missing' } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.id': { $nin: '%%values.missing' } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.id': { $nin: '%%values.limit' } }, env())).toBe(false);
  });

  it('$eq / $ne', async () => {
    expect(await evaluateExpression({ '%%user.custom_data.level': { $eq: 3 } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.custom_data.level': { '%eq': '3' } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.custom_data.level': { $ne: 4 } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.custom_data.level': { $ne: 3 } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.data': { $eq: { tags: ['x', 'y'], email: 'a@example.com' } } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.data.nope': { $ne: 3 } }, env())).toBe(true);
  });

  it('$gt / $gte / $lt / $lte on numbers', async () => {
    const level = (op: string, v: unknown): Promise<boolean> => evaluateExpression({ '%%user.custom_data.level': { [op]: v } }, env());
    expect([await level('$gt', 2), await level('$gt', 3)]).toEqual([true, false]);
    expect([await level('$gte', 3), await level('$gte', 4)]).toEqual([true, false]);
    expect([await level('$lt', 4), await level('$lt', 3)]).toEqual([true, false]);
    expect([await level('$lte', 3), await level('$lte', 2)]).toEqual([true, false]);
    expect([await level('%gt', 2), await level('%lte', 2)]).toEqual([true, false]);
    expect(await level('$lt', '%%values.limit')).toBe(true);
  });

  it('comparisons on strings, and false on mismatched or missing types', async () => {
    expect(await evaluateExpression({ '%%user.type': { $gt: 'abc' } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.type': { $lt: 'abc' } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.custom_data.level': { $gt: '1' } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.custom_data.level': { $lt: '9' } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.nothing': { $lt: 9 } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%user.nothing': { $gte: null } }, env())).toBe(false);
  });

  it('multiple operators in one object are an AND', async () => {
    expect(await evaluateExpression({ '%%args.someNumber': { $gt: 5, $lt: 10 } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%args.someNumber': { $gt: 5, $lt: 6 } }, env())).toBe(false);
  });

  it('%or / $or / $and inside a field apply to the field', async () => {
    expect(await evaluateExpression({ '%%user.type': { '%or': ['server', 'normal'] } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%user.type': { $or: ['server', 'system'] } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%args.someNumber': { $and: [{ $gt: 5 }, { $ne: 7 }] } }, env())).toBe(false);
  });

  it('top-level %and / $and / $or', async () => {
    expect(await evaluateExpression({ '%and': [{ '%%user.id': 'u1' }, true] }, env())).toBe(true);
    expect(await evaluateExpression({ $and: [{ '%%user.id': 'u1' }, false] }, env())).toBe(false);
    expect(await evaluateExpression({ $or: [false, { '%%user.type': 'normal' }] }, env())).toBe(true);
    expect(await evaluateExpression({ '%or': [false, {}] }, env())).toBe(true);
  });

  it('%or stops at the first true branch, AND stops at the first false key', async () => {
    let calls = 0;
    const callFunction: ExpressionEnv['callFunction'] = async () => {
      calls += 1;
      return true;
    };
    const fn = { '%function': { name: 'f' } };
    await evaluateExpression({ '%or': [true, { '%%true': fn }] }, env({ callFunction }));
    await evaluateExpression({ '%%user.id': 'nobody', '%%true': fn }, env({ callFunction }));
    expect(calls).toBe(0);
  });

  it('all conversion operators return their expanded argument', async () => {
    const e = env({ args: { a: 'u1' } });
    for (const op of ['%stringToOid', '%oidToString', '%stringToUuid', '%uuidToString', '%oid']) {
      expect(await evaluateExpression({ a: { [op]: '%%user.id' } }, e)).toBe(true);
      expect(await evaluateExpression({ a: { [op]: 'other' } }, e)).toBe(false);
    }
  });

  it('throws on unknown or misplaced operators', async () => {
    await expect(evaluateExpression({ a: { $regex: '^u' } }, env())).rejects.toThrow('$regex');
    await expect(evaluateExpression({ '%foo': 1 }, env())).rejects.toThrow('%foo');
    await expect(evaluateExpression({ $exists: true }, env())).rejects.toThrow('$exists must be applied to a field');
    await expect(evaluateExpression({ a: { $gt: 1, b: 2 } }, env())).rejects.toThrow('mixes operators');
    await expect(evaluateExpression({ '%%usr.id': 'x' }, env())).rejects.toThrow('%%usr');
  });
});

describe('expansions', () => {
  it('%%true / %%false as values and keys', async () => {
    expect(await evaluateExpression({ '%%values.flag': '%%true' }, env())).toBe(true);
    expect(await evaluateExpression({ '%%values.flag': '%%false' }, env())).toBe(false);
    expect(await evaluateExpression({ '%%true': true }, env())).toBe(true);
    expect(await evaluateExpression({ '%%true': false }, env())).toBe(false);
    expect(await evaluateExpression({ '%%false': false }, env())).toBe(true);
    expect(await evaluateExpression({ '%%true': '%%values.flag' }, env())).toBe(true);
  });

  it('%%true / %%false assert a nested expression', async () => {
    expect(await evaluateExpression({ '%%true': { '%%user.type': 'normal' } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%false': { '%%user.type': 'normal' } }, env())).toBe(false);
    expect(await evaluateExpression({ '%%false': { '%%user.type': 'server' } }, env())).toBe(true);
    expect(await evaluateExpression({ '%%true': { '%or': [{ '%%user.type': 'server' }, { '%%user.id': 'u1' }] } }, env())).toBe(true);
  });

  it('%%user, %%request, %%values, %%environment, %%args', () => {
    const e = env();
    expect(expandValue('%%user.id', e)).toBe('u1');
    expect(expandValue('%%user.identities', e)).toEqual(user.identities);
    expect(expandValue('%%user.identities.0.providerType', e)).toBe('local-userpass');
    expect(expandValue('%%user.data.email', e)).toBe('a@example.com');
    expect(expandValue('%%user.custom_data', e)).toEqual({ status: 'ACTIVE', level: 3 });
    expect(expandValue('%%request.httpMethod', e)).toBe('POST');
    expect(expandValue('%%request.requestHeaders.X-Key', e)).toEqual(['k1']);
    expect(expandValue('%%values.limit', e)).toBe(10);
    expect(expandValue('%%environment.tag', e)).toBe('production');
    expect(expandValue('%%environment.values.baseUrl', e)).toBe('https://example.com');
    expect(expandValue('%%environment', e)).toEqual(baseEnv.environment);
    expect(expandValue('%%args.body.userId', e)).toBe('u1');
    expect(expandValue('%%true', e)).toBe(true);
    expect(expandValue('%%false', e)).toBe(false);
  });

  it('data-rule expansions resolve to undefined', () => {
    for (const x of ['%%root', '%%root.status', '%%prevRoot', '%%this', '%%prev', '%%partition']) {
      expect(expandValue(x, env())).toBeUndefined();
    }
  });

  it('missing paths resolve to undefined and never equal anything', async () => {
    expect(expandValue('%%user.data.nope.deeper', env())).toBeUndefined();
    expect(expandValue('%%user.id.length', env())).toBeUndefined();
    expect(expandValue('%%values.x', {})).toBeUndefined();
    expect(await evaluateExpression({ '%%user.id': '%%values.missing' }, {})).toBe(false);
    expect(await evaluateExpression({ '%%user.data.nope': { $eq: '%%user.data.other' } }, env())).toBe(false);
    expect(await evaluateExpression({ owner: '%%user.id' }, { args: {} })).toBe(false);
  });

  it('literal field names look up %%args, including dotted paths', async () => {
    expect(await evaluateExpression({ owner: 'u1' }, env())).toBe(true);
    expect(await evaluateExpression({ 'body.userId': '%%user.id' }, env())).toBe(true);
    expect(await evaluateExpression({ owner: 'u2' }, env())).toBe(false);
  });

  it('array-contains equality, and whole-array equality', async () => {
    expect(await evaluateExpression({ list: 'a' }, env())).toBe(true);
    expect(await evaluateExpression({ list: 'c' }, env())).toBe(false);
    expect(await evaluateExpression({ list: ['a', 'b'] }, env())).toBe(true);
    expect(await evaluateExpression({ list: ['b', 'a'] }, env())).toBe(false);
  });

  it('literal object values compare deeply after expansion', async () => {
    expect(await evaluateExpression({ body: { userId: '%%user.id' } }, env())).toBe(true);
    expect(await evaluateExpression({ body: { userId: '%%user.id', extra: 1 } }, env())).toBe(false);
  });

  it('never reads __proto__, constructor or prototype', async () => {
    const e = env({ args: { a: {} } });
    expect(expandValue('%%args.a.constructor', e)).toBeUndefined();
    expect(expandValue('%%args.a.__proto__', e)).toBeUndefined();
    expect(expandValue('%%args.toString', e)).toBeUndefined();
    expect(expandValue('%%user.constructor.prototype', e)).toBeUndefined();
    const own = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(expandValue('%%args.__proto__.polluted', env({ args: own }))).toBeUndefined();
    expect(await evaluateExpression({ 'a.constructor': { $exists: true } }, e)).toBe(false);
  });

  it('expandValue keeps a "__proto__" key as data without touching prototypes', () => {
    const value = JSON.parse('{"__proto__": {"polluted": "%%user.id"}}') as unknown;
    const out = expandValue(value, env()) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('expandValue expands deeply and unwraps conversion objects', () => {
    expect(expandValue({ a: ['%%user.id', { b: '%%values.limit' }], c: 1, d: 'plain %%user.id' }, env())).toEqual({
      a: ['u1', { b: 10 }],
      c: 1,
      d: 'plain %%user.id',
    });
    expect(expandValue([{ '%stringToOid': '%%user.id' }], env())).toEqual(['u1']);
    expect(expandValue({ $oid: 'abc' }, env())).toEqual({ $oid: 'abc' });
  });

  it('expandValue throws on an unknown expansion root', () => {
    expect(() => expandValue('%%usr.id', env())).toThrow('App Services has no expansion %%usr');
  });
});
