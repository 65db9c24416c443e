// The callers the server makes itself: anonymous, the system, and any caller frozen to be shared.
import type { FnUser } from './types.js';

const ANONYMOUS: FnUser = freezeUser({
  id: 'anonymous',
  type: 'normal',
  data: {},
  custom_data: {},
  identities: [{ id: 'anonymous', provider_type: 'anon-user' }],
});
const SYSTEM: FnUser = freezeUser({ id: '', type: 'system', data: {}, custom_data: {}, identities: [] });

/** The caller without a token (one frozen object: callers are read, never changed). */
export function anonymousUser(): FnUser {
  return ANONYMOUS;
}

/** The caller with the service key, and who admin calls run as by default (frozen, shared). */
export function systemUser(): FnUser {
  return SYSTEM;
}

/** Freezes a caller (its data, custom data and identities too): callers are shared between calls. */
export function freezeUser(user: FnUser): FnUser {
  Object.freeze(user.data);
  Object.freeze(user.custom_data);
  user.identities.forEach((identity) => Object.freeze(identity));
  Object.freeze(user.identities);
  return Object.freeze(user);
}
