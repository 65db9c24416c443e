// fn serve's admin routes for an app's secrets (service key required, checked by the caller):
//   GET    .../secrets          { secrets: [{ name, updatedAt }] }: names and times, never a value
//   PUT    .../secrets/{name}   { value }: sets it; { name, updatedAt, created }
//   DELETE .../secrets/{name}   removes it; 404 SECRET_NOT_FOUND when there is none
// No answer, event or error message carries a value.
import { secretNameProblem, secretValueProblem } from '../project/secrets.js';
import type { AdminRoute } from './admin-routes.js';
import type { SecretStore } from './app-secrets.js';
import { checkAppId } from './deploy-routes.js';
import { HttpError, sendJson } from './http.js';

export function secretRoutes(secrets: SecretStore, onChange: (appId: string, name: string, action: 'set' | 'unset') => void): AdminRoute[] {
  const nameOf = (raw: string | undefined): string => {
    const name = raw ?? '';
    const problem = secretNameProblem(name);
    if (problem) throw new HttpError(400, 'INVALID_SECRET_NAME', problem);
    return name;
  };
  return [
    {
      method: 'GET',
      path: 'secrets',
      handler: ({ res, appId }) => {
        checkAppId(appId);
        sendJson(res, 200, { secrets: secrets.list(appId) });
      },
    },
    {
      method: 'PUT',
      path: 'secrets/*',
      handler: async ({ res, appId, readJson }, [raw]) => {
        checkAppId(appId);
        const name = nameOf(raw);
        const body = (await readJson()) as { value?: unknown };
        if (typeof body.value !== 'string') throw new HttpError(400, 'BAD_REQUEST', `the body must be { "value": "<the secret's text>" }`);
        const problem = secretValueProblem(body.value);
        if (problem) throw new HttpError(400, 'INVALID_SECRET_VALUE', `secret "${name}": ${problem}`);
        const out = secrets.set(appId, name, body.value);
        onChange(appId, name, 'set');
        sendJson(res, 200, { name, updatedAt: out.updatedAt, created: out.created });
      },
    },
    {
      method: 'DELETE',
      path: 'secrets/*',
      handler: ({ res, appId }, [raw]) => {
        checkAppId(appId);
        const name = nameOf(raw);
        if (!secrets.unset(appId, name)) throw new HttpError(404, 'SECRET_NOT_FOUND', `"${appId}" has no secret "${name}"`);
        onChange(appId, name, 'unset');
        sendJson(res, 200, { name, removed: true });
      },
    },
  ];
}
