// fn serve's admin routes for the packages of an app (service key required, checked by the caller):
//   GET .../dependencies/{hash}   { hash, packages } when the app has that set, else 404
//   PUT .../dependencies/{hash}   body: a gzipped tar of node_modules/ (application/gzip); kept
//                                 when its files hash to {hash}, else 400 DEPENDENCIES_MISMATCH
// fn push sends a set only when the server lacks it; a deployment then names it by hash.
import { FnError } from '../errors.js';
import type { AdminRoute } from './admin-routes.js';
import { readBody } from './body.js';
import { checkAppId } from './deploy-routes.js';
import { DependencyMismatchError, type DependencyStore } from './dependency-store.js';
import { HttpError, sendJson } from './http.js';

/** The largest archive of packages taken (App Services takes 15 MB zipped). */
export const MAX_DEPENDENCY_ARCHIVE_BYTES = 256 * 1024 * 1024;

export function dependencyRoutes(deps: DependencyStore): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: 'dependencies/*',
      handler: ({ res, appId }, [hash]) => {
        checkAppId(appId);
        const info = deps.info(appId, hash ?? '');
        if (!info) throw new HttpError(404, 'NO_DEPENDENCIES', `"${appId}" has no set of packages ${String(hash).slice(0, 12)}`);
        sendJson(res, 200, info);
      },
    },
    {
      method: 'PUT',
      path: 'dependencies/*',
      handler: async ({ req, res, appId }, [hash]) => {
        checkAppId(appId);
        const body = await readBody(req, MAX_DEPENDENCY_ARCHIVE_BYTES);
        try {
          sendJson(res, 201, deps.put(appId, hash ?? '', body));
        } catch (error) {
          if (error instanceof DependencyMismatchError) throw new HttpError(400, 'DEPENDENCIES_MISMATCH', error.message);
          if (error instanceof FnError) throw new HttpError(400, 'DEPENDENCIES_INVALID', error.message);
          throw new HttpError(400, 'DEPENDENCIES_INVALID', `the packages cannot be unpacked: ${(error as Error).message}`);
        }
      },
    },
  ];
}
