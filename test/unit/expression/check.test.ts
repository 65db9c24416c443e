import { describe, it, expect } from 'vitest';
import { checkExpression, editDistance, parseOperator } from '../../../src/expression/check.js';

describe('checkExpression: valid expressions', () => {
  const valid: [string, unknown][] = [
    ['true', true],
    ['false', false],
    ['empty object', {}],
    ['corpus: user type', { '%%user.type': 'server' }],
    ['corpus: IP deny list', { '%%request.remoteIPAddress': { $nin: ['218.3.246.114', '63.76.252.182', '253.105.104.43'] } }],
    ['$in against values', { owner: '%%user.id', '%%request.remoteIPAddress': { $in: '%%values.allowedClientIPAddresses' } }],
    ['environment', { '%%environment.tag': 'production', '%%environment.values.baseUrl': { '%exists': true } }],
    ['custom_data and root', { '%%user.custom_data.status': 'ACTIVE', '%%root.owners': '%%user.id' }],
    ['$in admin ids', { '%%user.id': { $in: '%%values.admin_ids' } }],
    ['%%true + %function', { '%%true': { '%function': { name: 'isAuthorizedUser', arguments: ['%%user.id'] } } }],
    ['%%false + %function without arguments', { '%%false': { '%function': { name: 'isBanned' } } }],
    ['%stringToOid', { _id: { '%stringToOid': '%%user.id' } }],
    ['%oidToString with EJSON literal', { s: { '%oidToString': { $oid: '5f1b2c3d4e5f6a7b8c9d0e1f' } } }],
    [
      '%stringToUuid / %uuidToString / %oid',
      { a: { '%stringToUuid': 'x' }, b: { '%uuidToString': '%%args.u' }, c: { '%oid': '%%user.id' } },
    ],
    ['%or with data-rule expansions', { '%or': [{ '%%prevRoot': { '%exists': false } }, { '%%root.status': 'new' }] }],
    ['%exists with expansion argument', { '%%prevRoot': { '%exists': '%%true' } }],
    ['$and / $or', { $and: [{ a: 1 }, true], $or: [{ b: 2 }] }],
    ['embedded %and of operators', { '%%args.someNumber': { '%and': [{ $gt: 0 }, { $lte: 42 }] } }],
    ['%or of values', { '%%user.type': { '%or': ['server', 'system'] } }],
    ['all comparisons', { n: { $eq: 1, $ne: 2, $gt: 0, $gte: 1, $lt: 5, $lte: 4 } }],
    ['% comparisons', { n: { '%gt': 0, '%lte': 4, '%eq': 1, '%ne': 3, '%gte': 1, '%lt': 9 } }],
    ['%in / %nin', { '%%args.url.host': { '%in': ['google.com'] }, x: { '%nin': '%%values.denied' } }],
    ['user sub-paths', { '%%user.data.email': { $exists: true }, '%%user.identities': { $exists: true }, '%%user': { $exists: true } }],
    [
      'request sub-paths',
      { '%%request.requestHeaders.X-Key': ['k'], '%%request.httpMethod': 'POST', '%%request.webhookUrl': { $exists: true } },
    ],
    ['args any depth', { '%%args.body.userId': '%%user.id' }],
    ['%%this / %%prev / %%partition', { '%%this': '%%prev', '%%partition': '%%user.id' }],
    ['literal object value', { '%%user.data': { name: 'x', tags: ['a'] } }],
    ['nested %%true expression', { '%%true': { '%or': [{ '%%user.type': 'server' }, { '%%user.id': { $in: ['a'] } }] } }],
    ['%%true with boolean and expansion', { '%%true': true, '%%false': '%%values.locked' }],
    ['conversion inside literal array', { _id: { $in: [{ '%stringToOid': '%%user.id' }] } }],
  ];
  it.each(valid)('%s', (_name, expr) => {
    expect(checkExpression(expr)).toEqual([]);
  });
});

describe('checkExpression: problems', () => {
  it('rejects a non-object, non-boolean top level', () => {
    for (const bad of [null, 'yes', 1, []]) {
      const problems = checkExpression(bad);
      expect(problems).toHaveLength(1);
      expect(problems[0]?.path).toEqual([]);
      expect(problems[0]?.message).toContain('must be a boolean or an object');
    }
    expect(checkExpression([])[0]?.message).toContain('not an array');
  });

  it('flags an unknown expansion root as a key, with a suggestion', () => {
    expect(checkExpression({ '%%usr.id': 'x' })).toEqual([
      { path: ['%%usr.id'], message: 'App Services has no expansion %%usr', hint: 'Did you mean %%user.id?', key: true },
    ]);
  });

  it('flags an unknown expansion root with no close match', () => {
    const [p] = checkExpression({ '%%foo': 1 });
    expect(p?.path).toEqual(['%%foo']);
    expect(p?.key).toBe(true);
    expect(p?.message).toBe('App Services has no expansion %%foo');
    expect(p?.hint).toContain('%%user');
  });

  it('flags an unknown %%user field and points at %%user.data', () => {
    expect(checkExpression({ '%%user.email': 'a@b.c' })).toEqual([
      {
        path: ['%%user.email'],
        message: '%%user has no field email',
        hint: 'Auth provider metadata is under %%user.data (try %%user.data.email); app custom data is under %%user.custom_data',
        key: true,
      },
    ]);
  });

  it('suggests a near-miss %%user field', () => {
    expect(checkExpression({ '%%user.ids': 'x' })[0]?.hint).toBe('Did you mean %%user.id?');
  });

  it('flags sub-fields of leaf expansions', () => {
    expect(checkExpression({ '%%user.id.x': 'a' })[0]?.message).toContain('%%user.id has no sub-fields');
    expect(checkExpression({ '%%request.httpMethod.x': 'a' })[0]?.message).toBe('%%request.httpMethod has no sub-fields');
    expect(checkExpression({ '%%environment.tag.x': 'a' })[0]?.message).toBe('%%environment.tag has no sub-fields');
    expect(checkExpression({ '%%true.x': true })[0]?.message).toBe('%%true has no sub-fields');
  });

  it('flags unknown %%request and %%environment fields', () => {
    expect(checkExpression({ '%%request.remoteIp': 'x' })[0]).toMatchObject({
      path: ['%%request.remoteIp'],
      message: '%%request has no field remoteIp',
      key: true,
    });
    expect(checkExpression({ '%%environment.tags': 'x' })[0]).toMatchObject({
      message: '%%environment has no field tags',
      hint: 'Did you mean %%environment.tag?',
    });
  });

  it('flags %%values without a name, empty segments and bare %%', () => {
    expect(checkExpression({ a: '%%values' })).toEqual([{ path: ['a'], message: '%%values needs a value name: %%values.<name>' }]);
    expect(checkExpression({ a: '%%user..id' })[0]?.message).toBe('%%user..id has an empty path segment');
    expect(checkExpression({ a: '%%' })[0]?.message).toContain('must be followed by a name');
  });

  it('flags prototype-polluting path segments', () => {
    expect(checkExpression({ a: '%%args.__proto__.x' })).toEqual([
      { path: ['a'], message: '%%args.__proto__.x must not read "__proto__"' },
    ]);
    expect(checkExpression({ '%%values.constructor': 1 })[0]?.key).toBe(true);
  });

  it('flags expansions in string values, not as keys', () => {
    expect(checkExpression({ owner: '%%usr.id' })).toEqual([
      { path: ['owner'], message: 'App Services has no expansion %%usr', hint: 'Did you mean %%user.id?' },
    ]);
  });

  it('flags unknown operators with a did-you-mean hint', () => {
    expect(checkExpression({ url: { $exist: true } })).toEqual([
      { path: ['url', '$exist'], message: 'App Services expressions have no operator $exist', hint: 'Did you mean $exists?', key: true },
    ]);
    expect(checkExpression({ name: { $regex: '^a' } })).toEqual([
      { path: ['name', '$regex'], message: 'App Services expressions have no operator $regex', key: true },
    ]);
    expect(checkExpression({ '%foo': 1 })).toEqual([
      { path: ['%foo'], message: 'App Services expressions have no operator %foo', key: true },
    ]);
    expect(checkExpression({ $where: 'x' })[0]?.message).toBe('App Services expressions have no operator $where');
    expect(checkExpression({ '%%true': { $function: { name: 'f' } } })[0]).toMatchObject({
      path: ['%%true', '$function'],
      hint: 'Did you mean %function?',
    });
  });

  it('flags operators used without a field', () => {
    expect(checkExpression({ $exists: true })).toEqual([
      {
        path: ['$exists'],
        message: '$exists must be applied to a field, not used on its own',
        hint: 'Write { "<field or expansion>": { "$exists": ... } }',
        key: true,
      },
    ]);
  });

  it('flags a malformed $exists argument', () => {
    expect(checkExpression({ url: { $exists: 'yes' } })).toEqual([
      { path: ['url', '$exists'], message: '$exists expects true or false, not the string "yes"' },
    ]);
  });

  it('flags a malformed $in / $nin argument', () => {
    expect(checkExpression({ '%%request.remoteIPAddress': { $nin: '1.2.3.4' } })).toEqual([
      {
        path: ['%%request.remoteIPAddress', '$nin'],
        message: '$nin expects an array or an expansion such as "%%values.<name>", not the string "1.2.3.4"',
      },
    ]);
    expect(checkExpression({ a: { '%in': 3 } })[0]?.path).toEqual(['a', '%in']);
  });

  it('checks expansions inside $in arrays', () => {
    expect(checkExpression({ a: { $in: ['x', '%%usr.id'] } })[0]?.path).toEqual(['a', '$in', 1]);
  });

  it('flags malformed %and / %or', () => {
    expect(checkExpression({ '%or': [] })).toEqual([
      { path: ['%or'], message: '%or expects a non-empty array of expressions, not an array' },
    ]);
    expect(checkExpression({ '%and': { a: 1 } })[0]?.message).toBe('%and expects a non-empty array of expressions, not an object');
    expect(checkExpression({ '%or': [{ a: 1 }, 'x'] })).toEqual([
      { path: ['%or', 1], message: 'An expression must be a boolean or an object, not the string "x"' },
    ]);
    expect(checkExpression({ n: { '%and': 5 } })[0]).toMatchObject({
      path: ['n', '%and'],
      message: '%and expects a non-empty array of operator objects or values, not number 5',
    });
    expect(checkExpression({ n: { '%and': [{ $gt: 0 }, { $foo: 1 }] } })[0]?.path).toEqual(['n', '%and', 1, '$foo']);
  });

  it('flags malformed %function calls', () => {
    expect(checkExpression({ '%%true': { '%function': 'isAdmin' } })).toEqual([
      {
        path: ['%%true', '%function'],
        message: '%function expects an object { "name": "<function>", "arguments": [...] }, not the string "isAdmin"',
      },
    ]);
    expect(checkExpression({ '%%true': { '%function': { arguments: [] } } })).toEqual([
      { path: ['%%true', '%function'], message: '%function needs a "name": the function to call' },
    ]);
    expect(checkExpression({ '%%true': { '%function': { name: '' } } })[0]?.path).toEqual(['%%true', '%function', 'name']);
    expect(checkExpression({ '%%true': { '%function': { name: 'f', arguments: 'x' } } })).toEqual([
      { path: ['%%true', '%function', 'arguments'], message: '%function "arguments" must be an array, not the string "x"' },
    ]);
    expect(checkExpression({ '%%true': { '%function': { name: 'f', args: [] } } })).toEqual([
      { path: ['%%true', '%function', 'args'], message: '%function takes only "name" and "arguments", not "args"', key: true },
    ]);
    expect(checkExpression({ '%%true': { '%function': { name: 'f', arguments: ['%%user.mail'] } } })[0]?.path).toEqual([
      '%%true',
      '%function',
      'arguments',
      0,
    ]);
  });

  it('flags conversion operators with a nested operator or non-string', () => {
    expect(checkExpression({ _id: { '%stringToOid': { '%function': { name: 'f' } } } })).toEqual([
      {
        path: ['_id', '%stringToOid'],
        message: '%stringToOid expects a literal string or an expansion, not an object',
        hint: '%stringToOid does not evaluate nested operators',
      },
    ]);
    expect(checkExpression({ _id: { '%oid': 5 } })[0]?.message).toBe('%oid expects a literal string or an expansion, not number 5');
  });

  it('flags a bad %%true value', () => {
    expect(checkExpression({ '%%true': 'yes' })).toEqual([
      {
        path: ['%%true'],
        message: '%%true expects a nested expression, a %function call, a boolean or an expansion, not the string "yes"',
        hint: 'For example { "%%true": { "%function": { "name": "isAllowed", "arguments": ["%%user.id"] } } }',
      },
    ]);
    expect(checkExpression({ '%%true': { $eq: true } })[0]?.message).toBe('$eq must be applied to a field, not used on its own');
  });

  it('flags a value mixing operators and field names', () => {
    expect(checkExpression({ a: { $gt: 1, b: 2 } })).toEqual([
      {
        path: ['a'],
        message: 'The value mixes operators ($gt) with field names (b)',
        hint: 'Use either an operator object such as { "$in": [...] } or a literal value, not both',
      },
    ]);
  });

  it('flags operators and expansion keys inside literal values', () => {
    expect(checkExpression({ a: { $eq: { '%%user.id': 1 } } })[0]).toMatchObject({
      path: ['a', '$eq', '%%user.id'],
      key: true,
    });
    expect(checkExpression({ a: { $in: [{ $gt: 1 }] } })[0]).toMatchObject({
      path: ['a', '$in', 0, '$gt'],
      message: 'The operator $gt is not evaluated inside a value; it would be compared literally',
    });
  });

  it('flags an empty field name', () => {
    expect(checkExpression({ '': 1 })).toEqual([{ path: [''], message: 'A field name must not be empty', key: true }]);
  });

  it('walks nested objects fully and reports every problem in document order', () => {
    const problems = checkExpression({
      '%%usr.id': 'x',
      ok: '%%user.id',
      '%or': [{ '%%user.email': 1 }, { n: { $regex: 'a', $exist: true } }],
      '%%true': { '%function': { name: 'f', extra: 1 } },
    });
    expect(problems.map((p) => p.path)).toEqual([
      ['%%usr.id'],
      ['%or', 0, '%%user.email'],
      ['%or', 1, 'n', '$regex'],
      ['%or', 1, 'n', '$exist'],
      ['%%true', '%function', 'extra'],
    ]);
  });
});

describe('helpers', () => {
  it('editDistance', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('$exist', '$exists')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
  });

  it('parseOperator accepts only the allowed prefixes', () => {
    expect(parseOperator('$in')).toBe('in');
    expect(parseOperator('%in')).toBe('in');
    expect(parseOperator('%function')).toBe('function');
    expect(parseOperator('$function')).toBeUndefined();
    expect(parseOperator('$stringToOid')).toBeUndefined();
    expect(parseOperator('$toString')).toBeUndefined();
    expect(parseOperator('$constructor')).toBeUndefined();
  });
});
