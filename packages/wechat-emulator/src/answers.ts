/**
 * How the emulated WeChat answers: errors as HTTP 200 with `{ errcode, errmsg }` (one errmsg
 * table for every route file), and request bodies read as JSON whatever the content-type.
 */
import type { FastifyRequest } from 'fastify';

export function wechatError(errcode: number, errmsg: string): { errcode: number; errmsg: string } {
  // Real answers end errmsg with a request id ("rid: ..."); clients must not parse it.
  return { errcode, errmsg: `${errmsg} rid: ${Math.random().toString(16).slice(2, 10)}` };
}

const ERRMSG: Record<number, string> = {
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40013: 'invalid appid',
  40125: 'invalid appsecret',
  42001: 'access_token expired',
  40004: 'invalid media type',
  40129: 'invalid scene',
  47001: 'data format error',
  48001: 'api unauthorized',
  61010: 'code is expired',
  87009: 'invalid signature',
};

export function fail(errcode: number): { errcode: number; errmsg: string } {
  return wechatError(errcode, ERRMSG[errcode] ?? 'error');
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
