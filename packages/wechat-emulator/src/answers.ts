/**
 * How the emulated WeChat answers: errors as HTTP 200 with `{ errcode, errmsg }`, and request
 * bodies read as JSON whatever the content-type. ERRMSG is the one place an errmsg is worded: the
 * state parts only say which errcode, and every route file looks the words up here.
 */
import type { FastifyRequest } from 'fastify';

function wechatError(errcode: number, errmsg: string): { errcode: number; errmsg: string } {
  // Real answers end errmsg with a request id ("rid: ..."); clients must not parse it.
  return { errcode, errmsg: `${errmsg} rid: ${Math.random().toString(16).slice(2, 10)}` };
}

/** WeChat's words for each errcode. */
const ERRMSG: Record<number, string> = {
  // Not an answer: the errcode of a wxa_media_check event whose image could not be downloaded.
  [-1008]: 'media download error',
  [-1]: 'system error',
  0: 'ok',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40004: 'invalid media type',
  40013: 'invalid appid',
  40029: 'invalid code',
  40030: 'invalid refresh_token',
  40125: 'invalid appsecret',
  40129: 'invalid scene',
  40163: 'code been used',
  40226: 'invalid user, risky user',
  42001: 'access_token expired',
  42002: 'refresh_token expired',
  42003: 'code expired',
  45009: 'reach max api daily quota limit',
  // The two double spaces are part of the message.
  45011: 'api minute-quota reach limit  mustslower  retry next minute',
  47001: 'data format error',
  48001: 'api unauthorized',
  61010: 'code is expired',
  87009: 'invalid signature',
};

/**
 * Where a web-authorization user access token is refused (/sns/userinfo, /sns/auth): 40001 is
 * worded without "or not latest" there.
 */
const OAUTH_ERRMSG: Record<number, string> = {
  40001: 'invalid credential, access_token is invalid',
};

function words(errcode: number): string {
  return ERRMSG[errcode] ?? 'error';
}

/** An error answer, with the request id; `'oauth'` for a refused web-authorization token. */
export function fail(
  errcode: number,
  wording: 'api' | 'oauth' = 'api',
): { errcode: number; errmsg: string } {
  const oauth = wording === 'oauth' ? OAUTH_ERRMSG[errcode] : undefined;
  return wechatError(errcode, oauth ?? words(errcode));
}

/** `{ errcode, errmsg }` with no request id, as success answers and pushed events carry it. */
export function answer(errcode: number): { errcode: number; errmsg: string } {
  return { errcode, errmsg: words(errcode) };
}

/** A success answer: errcode 0 and "ok", then the endpoint's own fields. */
export function ok(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...answer(0), ...extra };
}

/**
 * A fault armed through the control API (kind errcode): -1 says WeChat's "system error", any
 * other errcode just "injected".
 */
export function injectedFault(errcode: number): { errcode: number; errmsg: string } {
  return wechatError(errcode, errcode === -1 ? words(-1) : 'injected');
}

/** WeChat reads POST bodies as JSON whatever the content-type; a bad body is 47001. */
export function jsonBody(request: FastifyRequest): Record<string, unknown> | undefined {
  const raw = request.body;
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
