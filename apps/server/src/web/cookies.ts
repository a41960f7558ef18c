/**
 * The web login's two cookies, both HttpOnly and SameSite=Lax (Lax: they must come along on
 * WeChat's top-level redirect back to us), Secure unless PUBLIC_URL is this machine:
 * - `wxlogin_oauth` (10 minutes, path /oauth/wechat): the state's binding. Cleared by every
 *   callback, so a state is good for one callback in one browser.
 * - `wxlogin_session`: the session token, for these pages only.
 * Behind https both are `__Host-` cookies with Path=/: browsers then accept them only from this
 * very host with Secure and Path=/, so a sibling subdomain cannot plant a state or a session
 * (cookie tossing). The JSON API keeps Bearer tokens, so a cookie never authorizes an API call
 * (no CSRF surface there).
 */
import { OAUTH_STATE_TTL_MS } from '@wxlogin/wechat-core';
import type { PublicUrl } from '../public-url.js';

/** Where the web login starts; its callback is below it, and the state cookie is sent only there. */
export const LOGIN_PATH = '/oauth/wechat';
const STATE_COOKIE = 'wxlogin_oauth';
const SESSION_COOKIE = 'wxlogin_session';
/** The state cookie lives as long as the state it binds. */
export const STATE_COOKIE_SECONDS = OAUTH_STATE_TTL_MS / 1000;

export interface CookieSpec {
  name: string;
  options: { httpOnly: true; sameSite: 'lax'; secure: boolean; path: string };
}

/** The two cookies as this deployment sets them. */
export function webCookies(publicUrl: PublicUrl): { state: CookieSpec; session: CookieSpec } {
  const secure = publicUrl.secure;
  const base = { httpOnly: true, sameSite: 'lax', secure } as const;
  const prefix = secure ? '__Host-' : '';
  return {
    state: {
      name: `${prefix}${STATE_COOKIE}`,
      options: { ...base, path: secure ? '/' : LOGIN_PATH },
    },
    session: { name: `${prefix}${SESSION_COOKIE}`, options: { ...base, path: '/' } },
  };
}
