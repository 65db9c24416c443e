// The admin routes of the client API's users (service key): list, create (an email/password
// account, or a server API key and its user), enable, disable (its sessions end at once) and
// delete. Rows of the admin route table (admin-routes.ts). A user made or deleted here fires the
// app's CREATE or DELETE authentication triggers (`announce`), after the change is stored.
import { hashPassword, randomToken, tokenHash } from '../store/passwords.js';
import { newId, type StoredUser, type UserStore } from '../store/users.js';
import type { AdminRoute } from './admin-routes.js';
import { checkEmail, checkPassword, ClientError, revokeSession } from './client-api.js';
import type { AuthOperation } from './triggers.js';
import { HttpError, sendJson } from './http.js';

/** A user as the admin routes show it. */
export function shownUser(user: StoredUser) {
  return {
    id: user.id,
    type: user.type,
    disabled: user.disabled,
    createdAt: user.createdAt,
    ...(user.lastLoginAt ? { lastLoginAt: user.lastLoginAt } : {}),
    data: user.data,
    identities: user.identities.map((i) => ({ id: i.id, provider_type: i.provider_type })),
  };
}

export type AnnounceAuth = (appId: string, operationType: AuthOperation, providers: string[], user: StoredUser) => void;

export function userRoutes(
  users: UserStore,
  revoked: Set<string>,
  appOf: (appId: string) => unknown,
  announce: AnnounceAuth = () => {},
): AdminRoute[] {
  const asHttp = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ClientError) throw new HttpError(error.status, 'BAD_REQUEST', error.message);
      throw error;
    }
  };
  const userOf = async (appId: string, id: string): Promise<StoredUser> => {
    appOf(appId);
    const user = await users.getUser(appId, id);
    if (!user) throw new HttpError(404, 'USER_NOT_FOUND', `app "${appId}" has no user ${id}`);
    return user;
  };
  const setDisabled = (disabled: boolean): AdminRoute['handler'] => {
    return async ({ res, appId }, [id]) => {
      const user = await userOf(appId, id!);
      user.disabled = disabled;
      await users.putUser(appId, user);
      const ended = disabled ? await users.deleteSessionsOf(appId, user.id) : [];
      for (const sid of ended) revokeSession(revoked, sid);
      sendJson(res, 200, { user: shownUser(user), sessionsEnded: ended.length });
    };
  };
  return [
    {
      method: 'GET',
      path: 'users',
      handler: async ({ res, appId }) => {
        appOf(appId);
        sendJson(res, 200, { users: (await users.listUsers(appId)).map(shownUser) });
      },
    },
    {
      method: 'POST',
      path: 'users',
      handler: async ({ res, appId, readJson }) => {
        appOf(appId);
        const body = (await readJson()) as { email?: unknown; password?: unknown; apiKey?: unknown };
        const now = new Date().toISOString();
        if (typeof body.apiKey === 'string' && body.apiKey !== '') {
          // A server API key: a user of type "server" that logs in with it (api-key provider).
          const name = body.apiKey;
          const user: StoredUser = {
            id: newId(),
            type: 'server',
            disabled: false,
            data: { name },
            identities: [],
            createdAt: now,
          };
          const key = randomToken(48);
          const keyId = newId();
          user.identities.push({ id: keyId, provider_type: 'api-key' });
          await users.putUser(appId, user);
          await users.putApiKey(appId, { id: keyId, userId: user.id, name, keyHash: tokenHash(key), disabled: false, createdAt: now });
          announce(appId, 'CREATE', ['api-key'], user);
          return sendJson(res, 201, { user: shownUser(user), apiKey: { id: keyId, name, key } });
        }
        if (typeof body.email !== 'string' || typeof body.password !== 'string')
          throw new HttpError(400, 'BAD_REQUEST', 'give { "email", "password" } for an email/password user, or { "apiKey": "<name>" }');
        const email = body.email;
        const password = body.password;
        await asHttp(async () => {
          checkEmail(email);
          checkPassword(password);
        });
        if (await users.getPassword(appId, email)) throw new HttpError(409, 'USER_EXISTS', `app "${appId}" already has a user ${email}`);
        const accountId = newId();
        await users.putPassword(appId, { email, id: accountId, hash: await hashPassword(password), status: 'confirmed', createdAt: now });
        const user: StoredUser = {
          id: newId(),
          type: 'normal',
          disabled: false,
          data: { email },
          identities: [{ id: accountId, provider_type: 'local-userpass', data: { email } }],
          createdAt: now,
        };
        await users.putUser(appId, user);
        announce(appId, 'CREATE', ['local-userpass'], user);
        sendJson(res, 201, { user: shownUser(user) });
      },
    },
    { method: 'PUT', path: 'users/*/disable', handler: setDisabled(true) },
    { method: 'PUT', path: 'users/*/enable', handler: setDisabled(false) },
    {
      method: 'DELETE',
      path: 'users/*',
      handler: async ({ res, appId }, [id]) => {
        const user = await userOf(appId, id!);
        for (const sid of await users.deleteSessionsOf(appId, user.id)) revokeSession(revoked, sid);
        if (await users.deleteUser(appId, user.id))
          announce(
            appId,
            'DELETE',
            user.identities.map((i) => i.provider_type),
            user,
          );
        sendJson(res, 200, { deleted: user.id });
      },
    },
  ];
}
