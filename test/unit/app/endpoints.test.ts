// The endpoint model: loading http_endpoints/https_endpoints and legacy webhooks (from a
// deployment's files here), and which endpoint a request's route and method take.
import { describe, expect, it } from 'vitest';
import { loadEndpoints, matchEndpoint, normalizeRoute, WEBHOOK_PREFIX } from '../../../src/app/endpoints.js';

describe('loadEndpoints', () => {
  it('reads both endpoint files, with defaults for absent fields', () => {
    const loaded = loadEndpoints('', {
      'http_endpoints/config.json': JSON.stringify([
        { route: '/a//b/', http_method: 'get', function_name: 'f', respond_result: true, return_type: 'EJSON' },
        { route: 'no-slash', http_method: 'GET', function_name: 'f' },
      ]),
      'https_endpoints/config.json': JSON.stringify([{ route: '/c', http_method: '*', function_name: 'g', disabled: true }]),
    });
    expect(loaded.endpoints.map((e) => [e.route, e.method, e.functionName, e.respondResult, e.returnType, e.disabled])).toEqual([
      ['/a/b', 'GET', 'f', true, 'EJSON', false],
      ['/c', '*', 'g', false, 'JSON', true],
    ]);
    expect(loaded.endpoints[0]!.validation).toBe('NO_VALIDATION');
    expect(Object.keys(loaded.texts)).toEqual(['http_endpoints/config.json', 'https_endpoints/config.json']);
  });

  it('turns a legacy webhook into an endpoint at /<service>/<name> and a private function of its source', () => {
    const loaded = loadEndpoints('', {
      'services/gh/incoming_webhooks/push/config.json': JSON.stringify({
        name: 'push',
        run_as_user_id: 'u1',
        options: { httpMethod: 'ANY', validationMethod: 'SECRET_AS_QUERY_PARAM', secret: 's' },
      }),
      'services/gh/incoming_webhooks/push/source.js': 'exports = function (payload) { return payload.query; };',
    });
    expect(loaded.endpoints).toHaveLength(1);
    expect(loaded.endpoints[0]).toMatchObject({
      route: '/gh/push',
      method: '*',
      functionName: `${WEBHOOK_PREFIX}gh/push`,
      validation: 'SECRET_AS_QUERY_PARAM',
      webhook: { service: 'gh', name: 'push', secret: 's' },
    });
    expect(loaded.webhooks[0]).toMatchObject({
      runAsSystem: false,
      runAsUserId: 'u1',
      file: 'services/gh/incoming_webhooks/push/source.js',
    });
  });

  it('takes a null file as no endpoints and reports a file that is not JSON', () => {
    expect(loadEndpoints('', { 'http_endpoints/config.json': 'null' }).endpoints).toEqual([]);
    const broken = loadEndpoints('', { 'http_endpoints/config.json': '[{,]' });
    expect(broken.diagnostics.map((d) => d.rule)).toContain('json-syntax');
  });
});

describe('matchEndpoint', () => {
  const loaded = loadEndpoints('', {
    'http_endpoints/config.json': JSON.stringify([
      { route: '/x', http_method: 'GET', function_name: 'get' },
      { route: '/x', http_method: '*', function_name: 'any' },
      { route: '/y', http_method: 'POST', function_name: 'post' },
    ]),
  });
  it('prefers the exact method, then any method; else says which methods the route takes', () => {
    expect(matchEndpoint(loaded.endpoints, '/x', 'GET')).toMatchObject({ endpoint: { functionName: 'get' } });
    expect(matchEndpoint(loaded.endpoints, '/x', 'DELETE')).toMatchObject({ endpoint: { functionName: 'any' } });
    expect(matchEndpoint(loaded.endpoints, '/y', 'GET')).toEqual({ methods: ['POST'] });
    expect(matchEndpoint(loaded.endpoints, '/z', 'GET')).toBeUndefined();
  });
  it('normalizes routes', () => {
    expect(normalizeRoute('a//b/')).toBe('/a/b');
    expect(normalizeRoute('/')).toBe('/');
  });
});
