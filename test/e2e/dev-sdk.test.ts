// The real Base44 client (@base44/sdk) against the built `fn dev`: the proof that an app written for
// Base44 can call its functions on the local server by changing serverUrl only.
import { createClient } from '@base44/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemps, copyFixture } from './helpers.js';
import { startDev, userToken, type DevServer } from './dev-helpers.js';

interface AxiosLikeError {
  name: string;
  isAxiosError?: boolean;
  response?: { status: number; data: unknown };
}

/**
 * The functions module without the FunctionNameRegistry of whichever generated types this
 * TypeScript program also sees: the fixture app's names are not registered.
 */
interface LooseFunctions {
  invoke(name: string, data?: Record<string, unknown>): Promise<{ status: number; data: any }>;
}
const fns = (module: unknown) => module as LooseFunctions;

/** The rejection of a promise, for asserting on an AxiosError. */
async function rejectionOf(promise: Promise<unknown>): Promise<AxiosLikeError> {
  try {
    await promise;
  } catch (error) {
    return error as AxiosLikeError;
  }
  throw new Error('expected the call to be rejected, it succeeded');
}

describe('@base44/sdk against fn dev', () => {
  let dev: DevServer;

  beforeAll(async () => {
    dev = await startDev(copyFixture('dev/app'));
  });
  afterAll(async () => {
    await dev?.stop();
    cleanupTemps();
  });

  const client = (extra: { token?: string; serviceToken?: string; serverUrl?: string } = {}) =>
    createClient({ serverUrl: dev.url, appId: dev.appId, analytics: { enabled: false }, ...extra });

  it('invokes a public function with JSON and gets response.data', async () => {
    const response = await fns(client().functions).invoke('echo', {
      items: ['item1', 'item2'],
      qty: 2,
      nested: { a: 1 },
      nothing: null,
      undef: undefined,
    });
    expect(response.status).toBe(200);
    expect(response.data.params).toEqual({ items: ['item1', 'item2'], qty: 2, nested: { a: 1 }, nothing: null });
    expect(response.data.user.id).toBe('anonymous');
  });

  it('invokes with no data: the function gets {}', async () => {
    const response = await fns(client().functions).invoke('echo');
    expect(response.data.params).toEqual({});
    expect(response.data.argCount).toBe(1);
  });

  it('invokes a function named with a slash', async () => {
    const response = await fns(client().functions).invoke('reports/monthly', { month: '2024-07' });
    expect(response.data).toEqual({ report: 'monthly', month: '2024-07' });
  });

  it('sends a File as multipart: the function gets a File with its name and size, other values as strings', async () => {
    const file = new File(['hello file content'], 'a.txt', { type: 'text/plain' });
    const response = await fns(client().functions).invoke('upload', {
      doc: file,
      filter: 'grayscale',
      quality: 80,
      opts: { deep: [1, 2] },
    });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({
      doc: { file: true, name: 'a.txt', size: 18, type: 'text/plain', text: 'hello file content' },
      filter: { file: false, type: 'string', value: 'grayscale' },
      quality: { file: false, type: 'string', value: '80' },
      opts: { file: false, type: 'string', value: '{"deep":[1,2]}' },
    });
  });

  it('gets a 404 AxiosError for a private function', async () => {
    const error = await rejectionOf(fns(client().functions).invoke('privateHelper', { x: 1 }));
    expect(error.name).toBe('AxiosError');
    expect(error.isAxiosError).toBe(true);
    expect(error.response?.status).toBe(404);
    expect(error.response?.data).toEqual({ error: { code: 'FUNCTION_NOT_FOUND', message: 'function "privateHelper" not found' } });
  });

  it('is denied by can_evaluate (403), then allowed with a user token from the admin token route', async () => {
    const denied = await rejectionOf(fns(client().functions).invoke('gates/adminRole', {}));
    expect(denied.response?.status).toBe(403);
    expect((denied.response?.data as { error: { code: string } }).error.code).toBe('EXECUTION_DENIED');
    const token = await userToken(dev, 'u-sdk', { custom_data: { role: 'admin' } });
    const response = await fns(client({ token }).functions).invoke('gates/adminRole', {});
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ gate: 'adminRole', user: 'u-sdk' });
  });

  it('calls a private function through asServiceRole with the service key', async () => {
    const response = await fns(client({ serviceToken: dev.serviceKey }).asServiceRole.functions).invoke('privateHelper', { x: 7 });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ helper: true, args: { x: 7 }, user: '', system: true });
  });

  it('sees a nested context.functions.execute work', async () => {
    const response = await fns(client().functions).invoke('nested', { x: 1 });
    expect(response.data).toEqual({
      syncIsPromise: false,
      asyncIsPromise: true,
      inner: { helper: true, args: { x: 1 }, user: 'anonymous', system: false },
      twice: { helper: true, args: { x: 2 }, user: 'anonymous', system: false },
    });
  });

  it('still works with a serverUrl ending in a slash (the SDK then requests //api/...)', async () => {
    const response = await fns(client({ serverUrl: `${dev.url}/` }).functions).invoke('reports/monthly', { month: 'slash' });
    expect(response.data).toEqual({ report: 'monthly', month: 'slash' });
    const call = await dev.waitFor(
      (e) => e.event === 'call' && (e.entry as { arguments?: [{ month?: string }] }).arguments?.[0]?.month === 'slash',
    );
    expect(call).toMatchObject({ entry: { function: 'reports/monthly', status: 200 } });
  });

  it('gets a 500 AxiosError with the error body when the function throws', async () => {
    const error = await rejectionOf(fns(client().functions).invoke('throws', {}));
    expect(error.response?.status).toBe(500);
    expect(error.response?.data).toEqual({
      error: {
        code: 'FUNCTION_ERROR',
        message: 'function "throws" threw: boom from throws',
        stack: ['at exports (functions/throws.js:2:9)'],
      },
    });
  });
});
