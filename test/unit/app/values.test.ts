import { describe, expect, it } from 'vitest';
import { expandEnvironment, missingSecrets, parseValueFile, resolveValues } from '../../../src/app/values.js';

const env = { tag: 'qa', values: { baseUrl: 'https://qa.example.com', retries: 4, flags: { a: true } } };

describe('values', () => {
  it('a whole-string expansion takes the environment value as it is; inside a string, its text', () => {
    expect(expandEnvironment('%(%%environment.values.baseUrl)', env)).toBe('https://qa.example.com');
    expect(expandEnvironment('%(%%environment.values.retries)', env)).toBe(4);
    expect(expandEnvironment('%(%%environment.tag)', env)).toBe('qa');
    expect(expandEnvironment('%(%%environment.values.baseUrl)/v1?n=%(%%environment.values.retries)', env)).toBe(
      'https://qa.example.com/v1?n=4',
    );
    expect(expandEnvironment({ deep: ['%(%%environment.values.flags)'] }, env)).toEqual({ deep: [{ a: true }] });
    // One that names nothing is left as written; other text is untouched.
    expect(expandEnvironment('%(%%environment.values.nope)', env)).toBe('%(%%environment.values.nope)');
    expect(expandEnvironment('%%environment.values.baseUrl', env)).toBe('%%environment.values.baseUrl');
    expect(expandEnvironment(12, env)).toBe(12);
  });

  it('resolves plain, templated and secret values; a missing secret is undefined, a broken file left out', () => {
    const files = {
      'a.json': JSON.stringify({ name: 'a', value: [1, 2] }),
      'url.json': JSON.stringify({ name: 'url', value: '%(%%environment.values.baseUrl)' }),
      'key.json': JSON.stringify({ name: 'key', from_secret: true, value: 'apiKey' }),
      'gone.json': JSON.stringify({ name: 'gone', from_secret: true, value: 'nope' }),
      'noname.json': JSON.stringify({ value: 'x' }),
      'broken.json': '{',
    };
    const values = resolveValues(files, { apiKey: 's3cret' }, env);
    expect({ ...values }).toEqual({ a: [1, 2], url: 'https://qa.example.com', key: 's3cret', gone: undefined, noname: 'x' });
    expect(Object.hasOwn(values, 'broken')).toBe(false);
    expect(missingSecrets(files, ['apiKey'])).toEqual([{ value: 'gone', secret: 'nope', file: 'gone.json' }]);
  });

  it('says why a file is not a value, never reading a secret name it lacks as a secret', () => {
    expect(parseValueFile('x.json', '[]')).toEqual({ file: 'x.json', problem: expect.stringContaining('JSON object') });
    expect(parseValueFile('x.json', '{"from_secret":true}')).toEqual({
      file: 'x.json',
      problem: expect.stringContaining('name the secret'),
    });
    expect(parseValueFile('x.json', '\ufeff{"name":"x","value":1}')).toEqual({ file: 'x.json', name: 'x', value: 1 });
  });
});
