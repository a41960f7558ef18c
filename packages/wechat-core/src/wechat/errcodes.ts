/**
 * The one table that turns WeChat errcodes into this stack's error codes.
 * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
 * @see https://developers.weixin.qq.com/doc/oplatform/Return_codes/Return_code_descriptions_new.html
 */
import { type ErrorCode, WechatAuthError } from '../errors.js';

/** Answers that say the access token is stale: refetch once in normal mode and retry once. */
export const ACCESS_TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

/** "System busy": the only errcode worth retrying. */
export const SYSTEM_BUSY = -1;

const TABLE: Readonly<Record<number, { code: ErrorCode; message: string }>> = {
  [-1]: { code: 'wechat_unavailable', message: 'WeChat is busy (-1)' },
  40029: {
    code: 'invalid_code',
    message: 'the code is invalid, expired or belongs to another app',
  },
  40163: { code: 'code_used', message: 'the code has already been used' },
  42003: { code: 'invalid_code', message: 'the code has expired' },
  40226: { code: 'risky_user', message: 'WeChat blocked this login (risky user)' },
  45011: { code: 'rate_limited', message: 'WeChat rate limit reached; retry in a minute' },
  45009: { code: 'rate_limited', message: 'WeChat daily quota reached' },
  40001: { code: 'wechat_unavailable', message: 'WeChat rejected the access token' },
  40014: { code: 'wechat_unavailable', message: 'WeChat rejected the access token' },
  42001: { code: 'wechat_unavailable', message: 'the access token has expired' },
  40030: { code: 'unauthorized', message: 'the OAuth refresh token is invalid' },
  42002: { code: 'unauthorized', message: 'the OAuth refresh token has expired' },
  40003: { code: 'invalid_code', message: 'the openid is invalid or not the one the code is for' },
  48001: { code: 'unauthorized', message: 'the OAuth grant lacks this scope' },
  40013: { code: 'internal', message: 'WeChat rejected the appid (check WECHAT_APPID)' },
  40125: { code: 'internal', message: 'WeChat rejected the app secret (check WECHAT_SECRET)' },
  40002: { code: 'internal', message: 'WeChat rejected the grant type' },
  47001: { code: 'internal', message: 'WeChat could not read the request body' },
  87009: { code: 'session_key_stale', message: 'the session_key signature was rejected' },
  61010: {
    code: 'wechat_unavailable',
    message:
      'WeChat refused the content check: the user has not opened the mini-program in the last two hours',
  },
  44991: {
    code: 'rate_limited',
    message: 'WeChat content security limit reached; retry in a minute',
  },
  87014: { code: 'content_rejected', message: 'WeChat found the content risky' },
};

/** Retry-After for 45011: WeChat counts per minute. */
const RATE_LIMIT_RETRY_SECONDS = 60;

/** Maps an errcode answered by WeChat at `endpoint` (a path, never a URL with secrets). */
export function errorFromErrcode(errcode: number, endpoint: string): WechatAuthError {
  const entry = TABLE[errcode] ?? {
    code: 'wechat_unavailable' as const,
    message: 'WeChat answered an unexpected errcode',
  };
  return new WechatAuthError(entry.code, `${endpoint}: ${entry.message} (errcode ${errcode})`, {
    wechatErrcode: errcode,
    ...(entry.code === 'rate_limited' ? { retryAfterSeconds: RATE_LIMIT_RETRY_SECONDS } : {}),
  });
}
