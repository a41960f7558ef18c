/**
 * Official Account web login (网页授权), after the browser came back with a code.
 *
 * Silent first: the adapter starts with snsapi_base (no consent page). A base grant for someone we
 * know signs them in at once; for someone we do not know yet the answer is `needs_userinfo`, and
 * the adapter asks again with snsapi_userinfo (the consent page). A userinfo grant fetches the
 * profile, links by unionid and signs in.
 *
 * The OAuth tokens are the user's own: stored with their identity, renewed with their refresh
 * token when expired, and used on later silent logins to keep nickname and avatar in step with
 * WeChat. There is never one token for everybody.
 * @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
import { WechatAuthError, isWechatAuthError } from '../errors.js';
import type { OAuthTokens, UserProfile, UserRecord } from '../store/types.js';
import type { AppCredentials } from '../wechat/client.js';
import {
  type OAuthGrant,
  type OAuthUserInfo,
  REFRESH_TOKEN_TTL_MS,
  type WechatOAuthClient,
} from '../wechat/oauth.js';
import type { AuthDeps } from './deps.js';
import { type PublicUser, toPublicUser } from './public-user.js';
import { reportUnionidConflict, upsertLoginChecked } from './login.js';
import { cleanNickname } from './nickname.js';
import { avatarUrl as avatarUrlSchema, wechatCode } from './schemas.js';

export interface WebLoginDeps extends Pick<AuthDeps, 'store' | 'sessions' | 'now' | 'log'> {
  oauth: WechatOAuthClient;
  /** The Official Account whose web authorization this is. */
  officialAccount: AppCredentials;
}

export type OAuthCallbackOutcome =
  | {
      kind: 'signed_in';
      token: string;
      expiresAt: Date;
      isNewUser: boolean;
      user: PublicUser;
    }
  /** A base grant for a user we do not know: ask again with snsapi_userinfo. */
  | { kind: 'needs_userinfo' }
  /** WeChat's "snapshot" page (朋友圈快照): no real user behind it, nobody to sign in. */
  | { kind: 'snapshot' };

/** Renew a little before WeChat would refuse the access token. */
const RENEW_EARLY_MS = 60_000;
/** WeChat's answers for an access token it no longer accepts. */
const TOKEN_REJECTED = new Set([40001, 42001]);

function tokensFrom(grant: OAuthGrant, now: Date, refreshTokenExpiresAt?: Date): OAuthTokens {
  return {
    accessToken: grant.accessToken,
    accessTokenExpiresAt: new Date(now.getTime() + grant.expiresInSeconds * 1000),
    refreshToken: grant.refreshToken,
    refreshTokenExpiresAt: refreshTokenExpiresAt ?? new Date(now.getTime() + REFRESH_TOKEN_TTL_MS),
    scope: grant.scope,
  };
}

function hasUserinfoScope(scope: string): boolean {
  return scope.split(',').includes('snsapi_userinfo');
}

/** The profile fields WeChat gave that fit our profile rules (blank ones are left out). */
function profileFrom(info: OAuthUserInfo): UserProfile {
  const nickname = cleanNickname(info.nickname);
  const avatarUrl = avatarUrlSchema.safeParse(info.headimgurl).success
    ? info.headimgurl
    : undefined;
  return { ...(nickname ? { nickname } : {}), ...(avatarUrl ? { avatarUrl } : {}) };
}

/**
 * The user's WeChat profile with their stored tokens: renewed first when our record says the
 * access token expired, and renewed once (then retried once) when WeChat says so.
 */
async function fetchWithStoredTokens(
  openid: string,
  stored: OAuthTokens,
  deps: WebLoginDeps,
): Promise<OAuthUserInfo> {
  const { appid } = deps.officialAccount;
  let tokens = stored;
  let renewed = false;
  const renew = async () => {
    const grant = await deps.oauth.refresh(appid, tokens.refreshToken);
    tokens = tokensFrom(grant, deps.now(), tokens.refreshTokenExpiresAt);
    renewed = true;
    await deps.store.users.saveOAuthTokens(appid, openid, tokens);
  };
  if (tokens.accessTokenExpiresAt.getTime() - RENEW_EARLY_MS <= deps.now().getTime()) await renew();
  try {
    return await deps.oauth.fetchUserInfo(tokens.accessToken, openid);
  } catch (error) {
    const errcode = isWechatAuthError(error) ? error.wechatErrcode : undefined;
    if (renewed || errcode === undefined || !TOKEN_REJECTED.has(errcode)) throw error;
    await renew();
    return deps.oauth.fetchUserInfo(tokens.accessToken, openid);
  }
}

async function signIn(
  user: UserRecord,
  isNewUser: boolean,
  deps: WebLoginDeps,
): Promise<OAuthCallbackOutcome> {
  const issued = await deps.sessions.issue(user.id, deps.officialAccount.appid);
  return {
    kind: 'signed_in',
    token: issued.token,
    expiresAt: issued.expiresAt,
    isNewUser,
    user: toPublicUser(user),
  };
}

/** Exchanges the callback's code and signs the user in (or says what has to happen first). */
export async function completeOAuthLogin(
  code: string,
  deps: WebLoginDeps,
): Promise<OAuthCallbackOutcome> {
  // The one rule of what a WeChat code looks like (schemas.ts); a browser's mistake is shown as
  // an invalid code, not a bad request.
  if (!wechatCode.safeParse(code).success)
    throw new WechatAuthError('invalid_code', 'the authorization code is malformed');
  const oa = deps.officialAccount;
  const grant = await deps.oauth.exchangeCode(oa, code);
  if (grant.isSnapshotUser) return { kind: 'snapshot' };

  if (hasUserinfoScope(grant.scope)) {
    const info = await deps.oauth.fetchUserInfo(grant.accessToken, grant.openid);
    const unionid = info.unionid ?? grant.unionid;
    const now = deps.now();
    const result = await upsertLoginChecked(
      {
        appid: oa.appid,
        openid: grant.openid,
        unionid: unionid || undefined,
        oauth: tokensFrom(grant, now),
        now,
      },
      deps,
    );
    reportUnionidConflict(result, oa.appid, deps);
    const user =
      (await deps.store.users.updateProfile(result.user.id, profileFrom(info), now)) ?? result.user;
    return signIn(user, result.isNewUser, deps);
  }

  const identity = await deps.store.users.findIdentity(oa.appid, grant.openid);
  if (!identity) return { kind: 'needs_userinfo' };
  const result = await upsertLoginChecked(
    {
      appid: oa.appid,
      openid: grant.openid,
      unionid: grant.unionid || undefined,
      now: deps.now(),
    },
    deps,
  );
  reportUnionidConflict(result, oa.appid, deps);
  let user = result.user;
  const stored = identity.oauth;
  if (
    stored &&
    hasUserinfoScope(stored.scope) &&
    stored.refreshTokenExpiresAt.getTime() > deps.now().getTime()
  ) {
    // Best effort: a WeChat failure here costs a fresher profile, never the sign-in.
    try {
      const info = await fetchWithStoredTokens(grant.openid, stored, deps);
      user = (await deps.store.users.updateProfile(user.id, profileFrom(info), deps.now())) ?? user;
    } catch (error) {
      if (!isWechatAuthError(error) || error.code === 'store_unavailable') throw error;
      deps.log?.warn(
        { event: 'oauth_profile_refresh_failed', code: error.code, userId: user.id },
        'could not refresh the WeChat profile; signing in with the stored one',
      );
    }
  }
  return signIn(user, false, deps);
}

/**
 * The path to return to after login, or null when it is not a same-origin path: only `/...`,
 * never `//host`, `/\host`, a scheme, control characters, or dot segments (`/./`, `/../`, also
 * as `%2e`): no open redirect, and nothing that turns into one once normalised.
 */
export function parseReturnTo(value: unknown): string | null {
  if (value === undefined || value === '') return '/';
  if (typeof value !== 'string' || value.length > 512) return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  // Browsers read "\" as "/" and drop tabs and newlines: refuse them rather than guess.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\\\x00-\x20\x7f]/.test(value)) return null;
  // Dot segments, plain or percent-encoded, are refused before anything normalises them:
  // `/.//evil.com` would otherwise become `//evil.com`, a link to another host.
  const path = value.split(/[?#]/, 1)[0] ?? '';
  if (/%2e/i.test(path) || path.split('/').some((segment) => segment === '.' || segment === '..'))
    return null;
  const base = 'http://return-to.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return null;
  }
  if (url.origin !== base || url.pathname.startsWith('//')) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
