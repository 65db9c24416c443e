// The trigger admin routes (service key), for fn trigger list --remote and fn trigger run --remote:
// GET triggers lists the app's triggers; POST triggers/{name}/run fires one by hand with the
// event of the body ({ "event": ... }, EJSON for a database event), runs it as the system user
// and answers its outcome. A run by hand leaves the trigger's state as it was.
import type { AdminRoute } from './admin-routes.js';
import { HttpError, sendJson } from './http.js';
import type { AppTriggers } from './triggers.js';

export function triggerRoutes(triggersOf: (appId: string) => AppTriggers | undefined): AdminRoute[] {
  const of = (appId: string): AppTriggers => {
    const triggers = triggersOf(appId);
    if (!triggers) throw new HttpError(404, 'APP_NOT_FOUND', `there is no app "${appId}" here`);
    return triggers;
  };
  return [
    {
      method: 'GET',
      path: 'triggers',
      handler: ({ res, appId }) => sendJson(res, 200, { triggers: of(appId).list() }),
    },
    {
      method: 'POST',
      path: 'triggers/*/run',
      handler: async ({ res, appId, readJson }, [name]) => {
        const triggers = of(appId);
        const body = (await readJson()) as { event?: unknown } | undefined;
        const spec = triggers.list().find((t) => t.name === name);
        if (!spec) {
          const known = triggers.list().map((t) => t.name);
          throw new HttpError(
            404,
            'TRIGGER_NOT_FOUND',
            `"${appId}" has no trigger "${name}"${known.length ? ` (it has ${known.join(', ')})` : ''}`,
          );
        }
        if (spec.broken !== undefined) throw new HttpError(409, 'TRIGGER_INVALID', `trigger "${name}" cannot run: ${spec.broken}`);
        const fired = await triggers.fire(name!, body && typeof body === 'object' ? body.event : undefined);
        const outcome = fired!.outcome;
        sendJson(res, 200, {
          trigger: name,
          type: spec.type,
          function: spec.functionName,
          result: outcome.result?.kind === 'json' ? (JSON.parse(outcome.result.json) as unknown) : null,
          error: outcome.error
            ? { code: outcome.error.code, message: outcome.error.message, ...(outcome.error.stack ? { stack: outcome.error.stack } : {}) }
            : null,
          logs: outcome.logs,
          durationMs: Math.round(outcome.durationMs * 10) / 10,
        });
      },
    },
  ];
}
