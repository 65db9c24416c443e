// Hand-made app bundles for the runtime tests: no manifest, no checks, just what a worker runs.
import type { AppBundle, BundledFunction, CallRequest, FnUser } from '../../../src/runtime/types.js';

export function fnDef(name: string, source: string, extra: Partial<BundledFunction> = {}): BundledFunction {
  return {
    name,
    private: false,
    canEvaluate: {},
    disableArgLogs: false,
    runAsSystem: false,
    runAsUserId: '',
    runAsUserIdScriptSource: '',
    source,
    file: `functions/${name}.js`,
    ...extra,
  };
}

export function bundleOf(version: string, functions: BundledFunction[], values: Record<string, unknown> = {}): AppBundle {
  return {
    appId: 'unit-app',
    version,
    functions: Object.fromEntries(functions.map((f) => [f.name, f])),
    values,
    environment: { tag: '', values: {} },
    modulesDir: undefined,
  };
}

export function userOf(id: string, extra: Partial<FnUser> = {}): FnUser {
  return { id, type: 'normal', data: {}, custom_data: {}, identities: [], ...extra };
}

export function callOf(name: string, args: unknown[] = [{}], extra: Partial<CallRequest> = {}): CallRequest {
  return {
    name,
    args,
    caller: userOf('u-caller'),
    via: 'client',
    request: { remoteIPAddress: '127.0.0.1', rawHeaders: [], httpMethod: 'POST', rawQueryString: '' },
    ...extra,
  };
}
