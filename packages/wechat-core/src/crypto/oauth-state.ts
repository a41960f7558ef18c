/**
 * The OAuth `state`: signed, expiring, and bound to the browser that started the login.
 *
 * state = nonce (32 hex) + expiry (8 hex, unix seconds) + HMAC-SHA256 (64 hex): 104 characters
 * of [0-9a-f], inside WeChat's "a-zA-Z0-9, at most 128 bytes". The MAC covers nonce, expiry and
 * returnTo. The nonce and returnTo also travel in a short-lived HttpOnly cookie (the binding), and
 * a callback is accepted only when state and cookie agree: a state made for another browser
 * (login CSRF) fails, and so does a replay once the adapter has cleared the cookie.
 * @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomBase64Url } from './random.js';

/** What the browser keeps in its cookie between /oauth/wechat and the callback. */
export interface OAuthStateBinding {
  nonce: string;
  returnTo: string;
}

export interface OAuthStateOptions {
  /** The HMAC key: at least 32 bytes of secret. */
  secret: string | Uint8Array;
  now: Date;
}

/** Default lifetime of a state: WeChat's code lives 5 minutes; the consent page may take longer. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

const STATE_PATTERN = /^([0-9a-f]{32})([0-9a-f]{8})([0-9a-f]{64})$/;
const NONCE_PATTERN = /^[0-9a-f]{32}$/;

function mac(secret: string | Uint8Array, nonce: string, expiry: string, returnTo: string): Buffer {
  // Length-prefixed fields: no two different (nonce, expiry, returnTo) sign the same bytes.
  return createHmac('sha256', secret)
    .update(`wxlogin-oauth-state\n${nonce}\n${expiry}\n${returnTo.length}:${returnTo}`, 'utf8')
    .digest();
}

/** A new state and the binding to set as the browser's cookie. */
export function createOAuthState(
  returnTo: string,
  options: OAuthStateOptions & { ttlMs?: number },
): { state: string; binding: OAuthStateBinding } {
  const nonce = Buffer.from(randomBase64Url(16), 'base64url').toString('hex');
  const expirySeconds = Math.floor(
    (options.now.getTime() + (options.ttlMs ?? OAUTH_STATE_TTL_MS)) / 1000,
  );
  const expiry = expirySeconds.toString(16).padStart(8, '0');
  const state = `${nonce}${expiry}${mac(options.secret, nonce, expiry, returnTo).toString('hex')}`;
  return { state, binding: { nonce, returnTo } };
}

export type OAuthStateCheck =
  /** Signed by us, for this browser, not expired. */
  | 'ok'
  /** Genuine but too old: start again. */
  | 'expired'
  /** Malformed, forged, for another browser, or its cookie is gone (already used). */
  | 'invalid';

/** Checks a callback's state against the browser's binding (undefined when it has no cookie). */
export function checkOAuthState(
  state: unknown,
  binding: OAuthStateBinding | undefined,
  options: OAuthStateOptions,
): OAuthStateCheck {
  if (typeof state !== 'string' || !binding) return 'invalid';
  const match = STATE_PATTERN.exec(state);
  if (!match) return 'invalid';
  const [, nonce = '', expiry = '', signature = ''] = match;
  const expected = mac(options.secret, nonce, expiry, binding.returnTo);
  const given = Buffer.from(signature, 'hex');
  const sameNonce =
    NONCE_PATTERN.test(binding.nonce) &&
    timingSafeEqual(Buffer.from(nonce), Buffer.from(binding.nonce));
  if (!timingSafeEqual(expected, given) || !sameNonce) return 'invalid';
  // Checked after the MAC: only a genuine state learns that it expired.
  return parseInt(expiry, 16) * 1000 <= options.now.getTime() ? 'expired' : 'ok';
}

/** The cookie value of a binding: `<nonce>.<base64url(returnTo)>`. */
export function encodeStateBinding(binding: OAuthStateBinding): string {
  return `${binding.nonce}.${Buffer.from(binding.returnTo, 'utf8').toString('base64url')}`;
}

/** The binding in a cookie value; undefined for anything not of the exact shape. */
export function decodeStateBinding(value: string | undefined): OAuthStateBinding | undefined {
  if (!value) return undefined;
  const dot = value.indexOf('.');
  const nonce = value.slice(0, dot);
  const encoded = value.slice(dot + 1);
  if (dot < 0 || !NONCE_PATTERN.test(nonce) || !/^[A-Za-z0-9_-]*$/.test(encoded)) return undefined;
  return { nonce, returnTo: Buffer.from(encoded, 'base64url').toString('utf8') };
}
