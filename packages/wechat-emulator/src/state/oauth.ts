/**
 * Official Account web authorization: the user in the browser, OAuth codes, and per-user grants
 * (access token renewed by the refresh token, which lives 30 days).
 */
import { randomBytes } from 'node:crypto';
import { makeOpenid } from './mini-program.js';
import { ACCESS_TOKEN_TTL_MS } from './access-tokens.js';

export const OAUTH_CODE_TTL_MS = 5 * 60_000;
export const OAUTH_REFRESH_TTL_MS = 30 * 24 * 3600_000;

export interface OAuthProfile {
  appid: string;
  openid: string;
  unionid: string | undefined;
  nickname: string;
  headimgurl: string;
  sex: number;
  province: string;
  city: string;
  country: string;
  /** What the user answers on the consent page for snsapi_userinfo. */
  consent: 'allow' | 'deny';
}

export interface OAuthCode {
  profile: OAuthProfile;
  scope: 'snsapi_base' | 'snsapi_userinfo';
  issuedAt: number;
  used: boolean;
}

export interface OAuthGrant {
  profile: OAuthProfile;
  scope: 'snsapi_base' | 'snsapi_userinfo';
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt: number;
}

export class OfficialAccountOAuth {
  private readonly oauthCodes = new Map<string, OAuthCode>();
  private readonly oauthByAccess = new Map<string, OAuthGrant>();
  private readonly oauthByRefresh = new Map<string, OAuthGrant>();
  private readonly oauthBrowserUser = new Map<string, OAuthProfile>();
  /** Every OA user by appid + openid: a changed nickname shows in grants issued before. */
  private readonly oauthProfiles = new Map<string, OAuthProfile>();

  constructor(private readonly now: () => number) {}

  /**
   * Puts a user in the browser: one already known (same openid) gets the given fields changed in
   * place, so grants issued before see the new nickname, as on WeChat; otherwise a new user.
   */
  setBrowserUser(appid: string, fields: Partial<OAuthProfile> = {}): OAuthProfile {
    const known = fields.openid ? this.oauthProfiles.get(`${appid}:${fields.openid}`) : undefined;
    const current = known ? Object.assign(known, fields) : defaultOAuthProfile(appid, fields);
    this.oauthProfiles.set(`${appid}:${current.openid}`, current);
    this.oauthBrowserUser.set(appid, current);
    return current;
  }

  browserUser(appid: string): OAuthProfile {
    let profile = this.oauthBrowserUser.get(appid);
    if (!profile) {
      profile = this.setBrowserUser(appid);
    }
    return profile;
  }

  mintOAuthCode(profile: OAuthProfile, scope: 'snsapi_base' | 'snsapi_userinfo'): string {
    const code = randomBytes(16).toString('hex');
    this.oauthCodes.set(code, { profile, scope, issuedAt: this.now(), used: false });
    return code;
  }

  exchangeOAuthCode(appid: string, code: string): OAuthGrant | { errcode: number } {
    const entry = this.oauthCodes.get(code);
    if (!entry || entry.profile.appid !== appid) return { errcode: 40029 };
    if (entry.used) return { errcode: 40163 };
    if (this.now() - entry.issuedAt > OAUTH_CODE_TTL_MS) {
      return { errcode: 42003 };
    }
    entry.used = true;
    return this.newGrant(entry.profile, entry.scope);
  }

  private newGrant(profile: OAuthProfile, scope: OAuthGrant['scope']): OAuthGrant {
    const now = this.now();
    const grant: OAuthGrant = {
      profile,
      scope,
      accessToken: randomBytes(40).toString('base64url'),
      accessExpiresAt: now + ACCESS_TOKEN_TTL_MS,
      refreshToken: randomBytes(40).toString('base64url'),
      refreshExpiresAt: now + OAUTH_REFRESH_TTL_MS,
    };
    this.oauthByAccess.set(grant.accessToken, grant);
    this.oauthByRefresh.set(grant.refreshToken, grant);
    return grant;
  }

  refreshOAuth(appid: string, refreshToken: string): OAuthGrant | { errcode: number } {
    const grant = this.oauthByRefresh.get(refreshToken);
    if (!grant || grant.profile.appid !== appid) {
      return { errcode: 40030 };
    }
    if (this.now() >= grant.refreshExpiresAt) {
      return { errcode: 42002 };
    }
    // The refresh token stays the same for its 30 days; only the access token is renewed.
    this.oauthByAccess.delete(grant.accessToken);
    grant.accessToken = randomBytes(40).toString('base64url');
    grant.accessExpiresAt = this.now() + ACCESS_TOKEN_TTL_MS;
    this.oauthByAccess.set(grant.accessToken, grant);
    return grant;
  }

  oauthGrant(accessToken: string | undefined): OAuthGrant | { errcode: number } {
    const grant = accessToken ? this.oauthByAccess.get(accessToken) : undefined;
    if (!grant) return { errcode: 40001 };
    if (this.now() >= grant.accessExpiresAt) {
      return { errcode: 42001 };
    }
    return grant;
  }
}

export function defaultOAuthProfile(
  appid: string,
  overrides: Partial<OAuthProfile> = {},
): OAuthProfile {
  return {
    appid,
    openid: makeOpenid(),
    unionid: undefined,
    nickname: '微信用户',
    headimgurl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/emulator/132',
    sex: 0,
    province: '',
    city: '',
    country: '',
    consent: 'allow',
    ...overrides,
  };
}
