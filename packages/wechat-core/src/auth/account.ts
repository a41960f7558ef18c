import { WechatAuthError } from '../errors.js';
import type { UserRecord } from '../store/types.js';
import type { AuthDeps } from './deps.js';
import { type PublicUser, toPublicUser } from './public-user.js';
import type { CallerContext } from './sessions.js';

/**
 * The one answer for a session whose user is gone (erased, or deleted by hand): unauthorized,
 * so the client logs in again.
 */
export function userGone(): WechatAuthError {
  return new WechatAuthError('unauthorized', 'the user of this session no longer exists');
}

/** The caller's user record; unauthorized if it no longer exists. */
export async function loadUser(userId: string, deps: Pick<AuthDeps, 'store'>): Promise<UserRecord> {
  const user = await deps.store.users.findUser(userId);
  if (!user) throw userGone();
  return user;
}

/** The caller's openid in their app (WeChat calls made on behalf of the user need it). */
export async function openidOf(
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store'>,
): Promise<string> {
  const identity = await deps.store.users.findIdentityOfUser(caller.userId, caller.appid);
  if (!identity) throw userGone();
  return identity.openid;
}

export async function me(
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store'>,
): Promise<{ user: PublicUser }> {
  return { user: toPublicUser(await loadUser(caller.userId, deps)) };
}

/** Ends the session of this bearer token. */
export async function logout(
  token: string | undefined,
  deps: Pick<AuthDeps, 'sessions'>,
): Promise<void> {
  await deps.sessions.revoke(token);
}
