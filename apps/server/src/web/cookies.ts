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
import type { PublicUrl } from '../public-url.js';

export const STATE_COOKIE = 'wxlogin_oauth';
export const SESSION_COOKIE = 'wxlogin_session';
export const STATE_COOKIE_SECONDS = 10 * 60;
const STATE_COOKIE_PATH = '/oauth/wechat';

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
      options: { ...base, path: secure ? '/' : STATE_COOKIE_PATH },
    },
    session: { name: `${prefix}${SESSION_COOKIE}`, options: { ...base, path: '/' } },
  };
}
