// The admin routes under /api/admin/v1/apps/{appId}/ (service key): one table, one matcher. A
// route's path is its segments after the app id: '*' matches one segment, '**' one or more (a
// function name with folders, joined by '/'); what they match are the handler's params, in order.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface AdminRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  appId: string;
  /** The path after /api/admin/v1/apps/{appId}/, decoded, split on '/'. */
  rest: string[];
  query: URLSearchParams;
  rawQuery: string;
  readJson: () => Promise<unknown>;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** e.g. 'functions/**' + '/execute', 'users/*' + '/token', 'deployments' */
  path: string;
  handler: (request: AdminRequest, params: string[]) => Promise<void> | void;
}

export interface AdminMatch {
  route: AdminRoute;
  params: string[];
}

interface Compiled {
  route: AdminRoute;
  segments: string[];
  /** Where '**' is, or -1. */
  rest: number;
}

function compile(route: AdminRoute): Compiled {
  const segments = route.path.split('/');
  const rest = segments.indexOf('**');
  if (rest >= 0 && segments.indexOf('**', rest + 1) >= 0) throw new Error(`admin route ${route.path}: one '**' at most`);
  return { route, segments, rest };
}

function matchOne(c: Compiled, rest: string[]): string[] | undefined {
  const n = c.segments.length;
  if (c.rest < 0 ? rest.length !== n : rest.length < n) return undefined;
  const params: string[] = [];
  // Segments after '**' are matched against the end of the path.
  const shift = rest.length - n;
  for (let i = 0; i < n; i++) {
    const want = c.segments[i]!;
    if (i === c.rest) {
      params.push(rest.slice(i, i + shift + 1).join('/'));
      continue;
    }
    const got = rest[c.rest >= 0 && i > c.rest ? i + shift : i]!;
    if (want === '*') params.push(got);
    else if (want !== got) return undefined;
  }
  return params;
}

/** The matcher of a table: the first route whose method and path match, with its params. */
export function adminRouter(routes: AdminRoute[]): (method: string, rest: string[]) => AdminMatch | undefined {
  const table = routes.map(compile);
  return (method, rest) => {
    for (const c of table) {
      if (c.route.method !== method) continue;
      const params = matchOne(c, rest);
      if (params) return { route: c.route, params };
    }
    return undefined;
  };
}
