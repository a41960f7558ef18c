/**
 * Official Account web authorization (网页授权): the authorize URL and the /sns/* calls.
 * Tokens here are per user, unlike the app-wide access token of the broker.
 * @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
import * as z from 'zod';
import { readAnswer, type AppCredentials } from './client.js';
import { WechatHttp, type WechatHttpOptions } from './http.js';

/** A refresh token lives 30 days from the grant that issued it; refreshing does not extend it. */
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600_000;

export type OAuthScope = 'snsapi_base' | 'snsapi_userinfo';

export interface OAuthGrant {
  accessToken: string;
  expiresInSeconds: number;
  refreshToken: string;
  openid: string;
  scope: string;
  unionid?: string;
  /** 1 when the page runs in the "snapshot" (朋友圈快照) mode: no real user behind it. */
  isSnapshotUser: boolean;
}

export interface OAuthUserInfo {
  openid: string;
  nickname: string;
  headimgurl: string;
  sex: number;
  province: string;
  city: string;
  country: string;
  privilege: string[];
  unionid?: string;
}

const grantAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  refresh_token: z.string().min(1),
  openid: z.string().min(1),
  scope: z.string(),
  unionid: z.string().min(1).optional(),
  is_snapshotuser: z.number().optional(),
});

const userInfoAnswer = z.object({
  openid: z.string().min(1),
  nickname: z.string(),
  headimgurl: z.string(),
  sex: z.number().default(0),
  province: z.string().default(''),
  city: z.string().default(''),
  country: z.string().default(''),
  privilege: z.array(z.string()).default([]),
  unionid: z.string().min(1).optional(),
});

function toGrant(data: z.infer<typeof grantAnswer>): OAuthGrant {
  return {
    accessToken: data.access_token,
    expiresInSeconds: data.expires_in,
    refreshToken: data.refresh_token,
    openid: data.openid,
    scope: data.scope,
    ...(data.unionid ? { unionid: data.unionid } : {}),
    isSnapshotUser: data.is_snapshotuser === 1,
  };
}

export class WechatOAuthClient {
  readonly http: WechatHttp;

  constructor(options: WechatHttpOptions | WechatHttp = {}) {
    this.http = options instanceof WechatHttp ? options : new WechatHttp(options);
  }

  /**
   * The page to send the browser to. WeChat wants the parameters in exactly this order and the
   * `#wechat_redirect` fragment; state must be a-zA-Z0-9 and at most 128 bytes.
   */
  buildAuthorizeUrl(input: {
    appid: string;
    redirectUri: string;
    scope: OAuthScope;
    state: string;
  }): string {
    if (!/^[a-zA-Z0-9]{0,128}$/.test(input.state)) {
      throw new RangeError('state must be 0-128 characters of a-zA-Z0-9');
    }
    const query = [
      `appid=${encodeURIComponent(input.appid)}`,
      `redirect_uri=${encodeURIComponent(input.redirectUri)}`,
      'response_type=code',
      `scope=${input.scope}`,
      `state=${input.state}`,
    ].join('&');
    return `${this.http.openOrigin}/connect/oauth2/authorize?${query}#wechat_redirect`;
  }

  /** Exchanges the callback's code (single-use, 5 minutes) for this user's tokens. */
  async exchangeCode(app: AppCredentials, code: string): Promise<OAuthGrant> {
    const path = '/sns/oauth2/access_token';
    const answer = await this.http.call({
      path,
      method: 'GET',
      query: { appid: app.appid, secret: app.secret, code, grant_type: 'authorization_code' },
    });
    return toGrant(readAnswer(grantAnswer, answer, path));
  }

  /** Renews a user's access token with their refresh token (valid 30 days). */
  async refresh(appid: string, refreshToken: string): Promise<OAuthGrant> {
    const path = '/sns/oauth2/refresh_token';
    const answer = await this.http.call({
      path,
      method: 'GET',
      query: { appid, grant_type: 'refresh_token', refresh_token: refreshToken },
    });
    return toGrant(readAnswer(grantAnswer, answer, path));
  }

  /** The user's profile (snsapi_userinfo only), decoded as UTF-8 whatever the headers say. */
  async fetchUserInfo(
    accessToken: string,
    openid: string,
    lang: 'zh_CN' | 'zh_TW' | 'en' = 'zh_CN',
  ): Promise<OAuthUserInfo> {
    const path = '/sns/userinfo';
    const answer = await this.http.call({
      path,
      method: 'GET',
      query: { access_token: accessToken, openid, lang },
    });
    const data = readAnswer(userInfoAnswer, answer, path);
    const { unionid, ...rest } = data;
    return { ...rest, ...(unionid ? { unionid } : {}) };
  }

  /** Whether a user's access token is still valid. */
  async isTokenValid(accessToken: string, openid: string): Promise<boolean> {
    try {
      await this.http.call({
        path: '/sns/auth',
        method: 'GET',
        query: { access_token: accessToken, openid },
      });
      return true;
    } catch (error) {
      const errcode = (error as { wechatErrcode?: number }).wechatErrcode;
      if (errcode === 40001 || errcode === 42001 || errcode === 40003) return false;
      throw error;
    }
  }
}
