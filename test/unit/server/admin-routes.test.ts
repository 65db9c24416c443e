import { describe, expect, it } from 'vitest';
import { adminRouter, type AdminRoute } from '../../../src/server/admin-routes.js';

const route = (method: AdminRoute['method'], path: string): AdminRoute => ({ method, path, handler: () => undefined });

describe('adminRouter', () => {
  const routes = [
    route('POST', 'users/*/token'),
    route('GET', 'logs/*'),
    route('GET', 'logs'),
    route('POST', 'functions/**/execute'),
    route('GET', 'deployment/functions/**/source'),
    route('POST', 'deployments/*/rollback'),
  ];
  const match = adminRouter(routes);
  const paths = (method: string, rest: string[]) => {
    const m = match(method, rest);
    return m ? [m.route.path, ...m.params] : undefined;
  };

  it('matches literal segments and captures * and ** (joined by /) in order', () => {
    expect(paths('POST', ['users', 'u1', 'token'])).toEqual(['users/*/token', 'u1']);
    expect(paths('GET', ['logs'])).toEqual(['logs']);
    expect(paths('GET', ['logs', '7'])).toEqual(['logs/*', '7']);
    expect(paths('POST', ['functions', 'sum', 'execute'])).toEqual(['functions/**/execute', 'sum']);
    expect(paths('POST', ['functions', 'reports', 'daily', 'execute'])).toEqual(['functions/**/execute', 'reports/daily']);
    expect(paths('GET', ['deployment', 'functions', 'a', 'b', 'source'])).toEqual(['deployment/functions/**/source', 'a/b']);
    expect(paths('POST', ['deployments', '3', 'rollback'])).toEqual(['deployments/*/rollback', '3']);
  });

  it('needs the method, every literal and at least one segment for **', () => {
    expect(paths('GET', ['users', 'u1', 'token'])).toBeUndefined();
    expect(paths('POST', ['users', 'u1', 'token', 'x'])).toBeUndefined();
    expect(paths('POST', ['functions', 'execute'])).toBeUndefined();
    expect(paths('POST', ['functions', 'sum', 'run'])).toBeUndefined();
    expect(paths('GET', ['logs', '1', '2'])).toBeUndefined();
    expect(paths('GET', [])).toBeUndefined();
  });
});
