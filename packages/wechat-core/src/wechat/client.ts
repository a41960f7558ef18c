/**
 * Typed calls to the WeChat server APIs a mini-program login needs.
 * Calls that need an access token take it as an argument: get it from StableTokenBroker.call().
 */
import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { WechatAuthError } from '../errors.js';
import { type WechatAnswer, WechatHttp, type WechatHttpOptions } from './http.js';

export interface AppCredentials {
  appid: string;
  secret: string;
}

export interface LoginSession {
  openid: string;
  /** Server-only: signs and encrypts this user's open data. Never send it anywhere. */
  sessionKey: string;
  unionid?: string;
}

export interface StableToken {
  accessToken: string;
  /** Remaining life as WeChat reports it: a duration, not a wall clock. */
  expiresInSeconds: number;
}

export interface PhoneInfo {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
  watermark: { appid: string; timestamp: number };
}

const code2SessionAnswer = z.object({
  openid: z.string().min(1),
  session_key: z.string().min(1),
  unionid: z.string().min(1).optional(),
});

const stableTokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().positive(),
});

const phoneAnswer = z.object({
  phone_info: z.object({
    phoneNumber: z.string(),
    purePhoneNumber: z.string().min(1),
    // The doc's example shows a number, the table says string: accept both, keep a string.
    countryCode: z.union([z.string(), z.number()]).transform(String),
    watermark: z.object({ appid: z.string(), timestamp: z.number() }),
  }),
});

const resetAnswer = z.object({ openid: z.string(), session_key: z.string().min(1) });

/** A content security verdict (v2): its suggestion, label (100 正常) and WeChat's trace id. */
export interface ContentVerdict {
  suggest: 'pass' | 'review' | 'risky';
  label: number;
  traceId: string;
}

const suggest = z.enum(['pass', 'review', 'risky']);
// The label is a number in the docs and a string in some real answers: either, kept a number.
const label = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

const msgSecCheckAnswer = z.object({
  result: z.object({ suggest, label }),
  trace_id: z.string().min(1),
});

const mediaCheckAnswer = z.object({ trace_id: z.string().min(1) });

/** Parses an answer with a schema; a surprising shape is WeChat being unavailable, not our bug. */
export function readAnswer<T>(schema: z.ZodType<T>, answer: WechatAnswer, path: string): T {
  const parsed = schema.safeParse(answer);
  if (!parsed.success) {
    throw new WechatAuthError('wechat_unavailable', `${path}: unexpected answer shape`);
  }
  return parsed.data;
}

/** The checksession/resetusersessionkey signature: HMAC-SHA256 over "" keyed by the key text as issued. */
export function sessionKeySignature(sessionKey: string): string {
  return createHmac('sha256', sessionKey).update('').digest('hex');
}

export class WechatClient {
  readonly http: WechatHttp;

  constructor(options: WechatHttpOptions | WechatHttp = {}) {
    this.http = options instanceof WechatHttp ? options : new WechatHttp(options);
  }

  /**
   * Exchanges a wx.login code for the user's openid and session_key (code2Session). No access token.
   * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
   */
  async exchangeLoginCode(app: AppCredentials, code: string): Promise<LoginSession> {
    const path = '/sns/jscode2session';
    const answer = await this.http.call({
      path,
      method: 'GET',
      query: {
        appid: app.appid,
        secret: app.secret,
        js_code: code,
        grant_type: 'authorization_code',
      },
    });
    const data = readAnswer(code2SessionAnswer, answer, path);
    return {
      openid: data.openid,
      sessionKey: data.session_key,
      ...(data.unionid ? { unionid: data.unionid } : {}),
    };
  }

  /**
   * Gets the stable access token. Normal mode returns the current token; force mode revokes it.
   * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
   */
  async fetchStableToken(app: AppCredentials, forceRefresh = false): Promise<StableToken> {
    const path = '/cgi-bin/stable_token';
    const answer = await this.http.call({
      path,
      method: 'POST',
      body: {
        grant_type: 'client_credential',
        appid: app.appid,
        secret: app.secret,
        force_refresh: forceRefresh,
      },
    });
    const data = readAnswer(stableTokenAnswer, answer, path);
    return { accessToken: data.access_token, expiresInSeconds: data.expires_in };
  }

  /**
   * Exchanges a getPhoneNumber button code for the user's phone number (of `openid`, when given).
   * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/phone-number/api_getphonenumber
   */
  async getPhoneNumber(accessToken: string, code: string, openid?: string): Promise<PhoneInfo> {
    const path = '/wxa/business/getuserphonenumber';
    const answer = await this.http.call({
      path,
      method: 'POST',
      query: { access_token: accessToken },
      // The optional openid names the user the code must belong to: a code tapped by someone
      // else is refused instead of binding their number to this account.
      body: openid === undefined ? { code } : { code, openid },
    });
    return readAnswer(phoneAnswer, answer, path).phone_info;
  }

  /**
   * Content security v2 for text a user typed (scene 1: 资料). A risky text is an answer, not an
   * error (errcode 0, suggest "risky").
   * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_msgseccheck.html
   */
  async msgSecCheck(
    accessToken: string,
    input: { content: string; openid: string },
  ): Promise<ContentVerdict> {
    const path = '/wxa/msg_sec_check';
    const answer = await this.http.call({
      path,
      method: 'POST',
      query: { access_token: accessToken },
      body: { content: input.content, version: 2, scene: 1, openid: input.openid },
    });
    const { result, trace_id } = readAnswer(msgSecCheckAnswer, answer, path);
    return { suggest: result.suggest, label: result.label, traceId: trace_id };
  }

  /**
   * Submits an image (scene 1) for an asynchronous check; WeChat downloads `mediaUrl` and pushes
   * its verdict as the `wxa_media_check` event, matched by the trace id answered here.
   * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_mediacheckasync.html
   */
  async mediaCheckAsync(
    accessToken: string,
    input: { mediaUrl: string; openid: string },
  ): Promise<{ traceId: string }> {
    const path = '/wxa/media_check_async';
    const answer = await this.http.call({
      path,
      method: 'POST',
      query: { access_token: accessToken },
      body: {
        media_url: input.mediaUrl,
        media_type: 2,
        version: 2,
        scene: 1,
        openid: input.openid,
      },
    });
    return { traceId: readAnswer(mediaCheckAnswer, answer, path).trace_id };
  }

  /**
   * Asks WeChat whether `sessionKey` is still this user's current key (87009 means it is not).
   * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
   */
  async checkSessionKey(accessToken: string, openid: string, sessionKey: string): Promise<boolean> {
    try {
      await this.http.call({
        path: '/wxa/checksession',
        method: 'GET',
        query: {
          access_token: accessToken,
          signature: sessionKeySignature(sessionKey),
          openid,
          sig_method: 'hmac_sha256',
        },
      });
      return true;
    } catch (error) {
      if (error instanceof WechatAuthError && error.wechatErrcode === 87009) return false;
      throw error;
    }
  }

  /**
   * Replaces the user's session_key with a new one; needs the current key to sign the request.
   * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/ResetUserSessionKey.html
   */
  async resetSessionKey(accessToken: string, openid: string, sessionKey: string): Promise<string> {
    const path = '/wxa/resetusersessionkey';
    const answer = await this.http.call({
      path,
      method: 'GET',
      query: {
        access_token: accessToken,
        openid,
        signature: sessionKeySignature(sessionKey),
        sig_method: 'hmac_sha256',
      },
    });
    return readAnswer(resetAnswer, answer, path).session_key;
  }
}
