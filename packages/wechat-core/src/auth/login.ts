/**
 * login: the self-hosted flow. wx.login code -> code2Session -> user + identity upserted with the
 * session_key kept server-side -> our own session token. No access token is needed.
 * loginWithIdentity: the cloud flow, where WeChat already vouches for appid/openid/unionid.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/login.html
 */
import type { LoginUpsertResult } from '../store/types.js';
import type { AuthDeps } from './deps.js';
import { type PublicUser, toPublicUser } from './public-user.js';
import { identityContext, loginInput, parseInput } from './schemas.js';

export interface LoginResult {
  token: string;
  /** ISO 8601. */
  expiresAt: string;
  isNewUser: boolean;
  user: PublicUser;
}

/** The app a request comes from (our client sends its appid; the default app otherwise). */
export interface AppContext {
  appid?: string;
}

export async function login(input: unknown, ctx: AppContext, deps: AuthDeps): Promise<LoginResult> {
  const { code } = parseInput(loginInput, input);
  const app = deps.apps.get(ctx.appid);
  // A failure here writes nothing: the code exchange comes before any store call.
  const wechat = await deps.wechat.exchangeLoginCode(app, code);
  const result = await deps.store.users.upsertLogin({
    appid: app.appid,
    openid: wechat.openid,
    ...(wechat.unionid ? { unionid: wechat.unionid } : {}),
    sessionKey: wechat.sessionKey,
    now: deps.now(),
  });
  reportUnionidConflict(result, app.appid, deps);
  const issued = await deps.sessions.issue(result.user.id, app.appid);
  return {
    token: issued.token,
    expiresAt: issued.expiresAt.toISOString(),
    isNewUser: result.isNewUser,
    user: toPublicUser(result.user),
  };
}

export interface IdentityLoginResult {
  isNewUser: boolean;
  user: PublicUser;
}

/** Upserts the user WeChat's cloud runtime identified (cloud.getWXContext()). */
export async function loginWithIdentity(
  ctx: { appid: string; openid: string; unionid?: string | undefined },
  deps: Pick<AuthDeps, 'store' | 'now' | 'log'>,
): Promise<IdentityLoginResult> {
  const identity = parseInput(identityContext, {
    appid: ctx.appid,
    openid: ctx.openid,
    ...(ctx.unionid ? { unionid: ctx.unionid } : {}),
  });
  const result = await deps.store.users.upsertLogin({ ...identity, now: deps.now() });
  reportUnionidConflict(result, identity.appid, deps);
  return { isNewUser: result.isNewUser, user: toPublicUser(result.user) };
}

/**
 * A unionid that could not be linked (another user holds it) keeps both users apart; an operator
 * has to look, so it is logged, never merged silently. The ids say where; the unionid stays out.
 */
export function reportUnionidConflict(
  result: LoginUpsertResult,
  appid: string,
  deps: Pick<AuthDeps, 'log'>,
): void {
  const conflict = result.unionidConflict;
  if (!conflict) return;
  deps.log?.warn(
    {
      event: 'unionid_conflict',
      appid,
      userId: conflict.userId,
      ...(conflict.heldByUserId ? { heldByUserId: conflict.heldByUserId } : {}),
    },
    conflict.heldByUserId
      ? 'WeChat reported a unionid that another user already holds; both users kept apart'
      : 'WeChat reported a unionid different from the one this user holds; left unchanged',
  );
}
