/**
 * login: the self-hosted flow. wx.login code -> code2Session -> user + identity upserted with the
 * session_key kept server-side -> our own session token. No access token is needed.
 * loginWithIdentity: the cloud flow, where WeChat already vouches for appid/openid/unionid.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/login.html
 */
import type { LoginUpsertInput, LoginUpsertResult } from '../store/types.js';
import type { AuthDeps } from './deps.js';
import { eraseAccount, isDeletionDue } from './lifecycle.js';
import { type DeletionInfo, type PublicUser, toDeletionInfo, toPublicUser } from './public-user.js';
import { identityContext, loginInput, parseInput } from './schemas.js';

export interface LoginResult {
  token: string;
  /** ISO 8601. */
  expiresAt: string;
  isNewUser: boolean;
  user: PublicUser;
  /** Present during the cooling-off period of a deletion: the client offers to cancel it. */
  deletion?: DeletionInfo;
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
  const upsert: LoginUpsertInput = {
    appid: app.appid,
    openid: wechat.openid,
    unionid: wechat.unionid || undefined,
    sessionKey: wechat.sessionKey,
    now: deps.now(),
  };
  // An erasure (of this account, due now) may finish between the upsert and the session: the
  // session is then of nobody, and the login starts over on a new user. Twice is plenty.
  for (let attempt = 0; ; attempt += 1) {
    const result = await upsertLoginChecked(upsert, deps);
    reportUnionidConflict(result, app.appid, deps);
    const issued = await deps.sessions.issue(result.user.id, app.appid);
    // Read after the session exists: a deletion requested meanwhile (which ended the sessions
    // it saw) is reported here, so no session outlives a deletion its client was not told of.
    const user = await deps.store.users.findUser(result.user.id);
    if (!user && attempt < 2) {
      await deps.store.sessions.delete(issued.session.sessionId);
      continue;
    }
    const current = user ?? result.user;
    return {
      token: issued.token,
      expiresAt: issued.expiresAt.toISOString(),
      isNewUser: result.isNewUser,
      user: toPublicUser(current),
      ...(current.deletion ? { deletion: toDeletionInfo(current.deletion) } : {}),
    };
  }
}

/**
 * upsertLogin, except that an account whose deletion is due is erased first (the login then
 * makes a new user): nobody logs back into an account past its deleteAt.
 */
export async function upsertLoginChecked(
  input: LoginUpsertInput,
  deps: Pick<AuthDeps, 'store' | 'now' | 'log' | 'cloudFiles'>,
): Promise<LoginUpsertResult> {
  const result = await deps.store.users.upsertLogin(input);
  if (!isDeletionDue(result.user, input.now)) return result;
  await eraseAccount(result.user.id, deps);
  return deps.store.users.upsertLogin(input);
}

export interface IdentityLoginResult {
  isNewUser: boolean;
  user: PublicUser;
  deletion?: DeletionInfo;
}

/** Upserts the user WeChat's cloud runtime identified (cloud.getWXContext()). */
export async function loginWithIdentity(
  ctx: { appid: string; openid: string; unionid?: string | undefined },
  deps: Pick<AuthDeps, 'store' | 'now' | 'log' | 'cloudFiles'>,
): Promise<IdentityLoginResult> {
  const identity = parseInput(identityContext, {
    appid: ctx.appid,
    openid: ctx.openid,
    unionid: ctx.unionid || undefined,
  });
  const result = await upsertLoginChecked(
    {
      appid: identity.appid,
      openid: identity.openid,
      unionid: identity.unionid,
      now: deps.now(),
    },
    deps,
  );
  reportUnionidConflict(result, identity.appid, deps);
  return {
    isNewUser: result.isNewUser,
    user: toPublicUser(result.user),
    ...(result.user.deletion ? { deletion: toDeletionInfo(result.user.deletion) } : {}),
  };
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
