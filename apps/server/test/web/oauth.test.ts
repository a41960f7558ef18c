/**
 * The OAuth redirect chain over plain HTTP (fetch, redirects followed by hand, a small cookie jar):
 * every hop checked, and every way to abuse the callback refused with a page and a 4xx.
 * The same chain in a real browser is in browser.test.ts.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEmbeddedCollection } from '../support/processes.js';
import { TEST_STATE_SECRET as STATE_SECRET, signedState } from '../support/oauth.js';
import { OA_APP, useStack } from '../support/stack.js';

const stack = useStack({
  env: {
    WECHAT_OA_APPID: OA_APP.appid,
    WECHAT_OA_SECRET: OA_APP.secret,
    OAUTH_STATE_SECRET: STATE_SECRET,
  },
});

/** A browser's cookies, as far as these tests need them (one host, paths ignored). */
class Browser {
  readonly cookies = new Map<string, string>();
  readonly setCookieHeaders: string[] = [];

  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) },
    });
    for (const header of response.headers.getSetCookie()) {
      this.setCookieHeaders.push(header);
      const [pair = '', ...attributes] = header.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const gone = attributes.some(
        (a) =>
          /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && new Date(a.slice(8)) < new Date()),
      );
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    return response;
  }

  /** Follows redirects (WeChat's and ours) until a page answers; returns every hop. */
  async follow(url: string): Promise<{ hops: string[]; last: Response; body: string }> {
    const hops = [url];
    let response = await this.get(url);
    while (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location') ?? '', hops.at(-1)).toString();
      hops.push(next);
      response = await this.get(next);
    }
    return { hops, last: response, body: await response.text() };
  }
}

const errorCodeOf = (body: string) => /data-error="([a-z_]+)"/.exec(body)?.[1];

async function setBrowserUser(user: {
  nickname?: string;
  unionid?: string;
  consent?: 'allow' | 'deny';
}) {
  return stack.emulator.control.setOAuthUser({ appid: OA_APP.appid, consent: 'allow', ...user });
}

describe('GET /oauth/wechat -> WeChat -> GET /oauth/wechat/callback', () => {
  it('goes silent first, asks consent for a new user, and lands signed in on returnTo', async () => {
    await setBrowserUser({ nickname: '张三·测试' });
    const browser = new Browser();
    const { hops, last } = await browser.follow(
      `${stack.server.url}/oauth/wechat?returnTo=%2Fwelcome%3Ftab%3D1`,
    );
    // us -> authorize(base) -> callback -> authorize(userinfo) -> callback -> returnTo
    expect(hops).toHaveLength(6);
    const authorize = new URL(hops[1] ?? '');
    expect(hops[1]).toMatch(
      new RegExp(
        `^${stack.emulator.url}/connect/oauth2/authorize\\?appid=${OA_APP.appid}&redirect_uri=${encodeURIComponent(`${stack.server.url}/oauth/wechat/callback`)}&response_type=code&scope=snsapi_base&state=[a-zA-Z0-9]{1,128}#wechat_redirect$`,
      ),
    );
    expect(new URL(hops[3] ?? '').searchParams.get('scope')).toBe('snsapi_userinfo');
    expect(authorize.searchParams.get('state')).not.toBe(
      new URL(hops[3] ?? '').searchParams.get('state'),
    );
    expect(hops[5]).toBe(`${stack.server.url}/welcome?tab=1`);
    // The authorization codes and states of the chain never reach a log line.
    for (const hop of [hops[2], hops[4]]) {
      const callback = new URL(hop ?? '');
      stack.watchForLeaks(
        callback.searchParams.get('code') ?? 'missing-code',
        callback.searchParams.get('state') ?? 'missing-state',
      );
    }
    expect(last.status).toBe(404); // returnTo is the site's own page; this server has none

    const session = browser.setCookieHeaders.find((h) => h.startsWith('wxlogin_session='));
    expect(session).toMatch(/; Path=\/;/);
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    expect(session).not.toMatch(/Secure/); // PUBLIC_URL is 127.0.0.1
    const stateCookie = browser.setCookieHeaders.find((h) => h.startsWith('wxlogin_oauth='));
    expect(stateCookie).toMatch(/Max-Age=600; Path=\/oauth\/wechat; HttpOnly; SameSite=Lax/);

    const home = await browser.get(`${stack.server.url}/`);
    const page = await home.text();
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(home.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page).toContain('张三·测试');
    // Each signed-in view renews the cookie for the sliding session's lifetime (30 days).
    expect(home.headers.get('set-cookie')).toMatch(
      /^wxlogin_session=[^;]+; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/,
    );
    stack.watchForLeaks(browser.cookies.get('wxlogin_session') ?? 'missing-session');
  });

  it('signs a known user in silently (snsapi_base only) the next time', async () => {
    await setBrowserUser({ nickname: '回头客' });
    await new Browser().follow(`${stack.server.url}/oauth/wechat`);
    const refreshes = await stack.emulator.control.callCount('/sns/oauth2/refresh_token');
    const again = new Browser();
    const { hops, body } = await again.follow(`${stack.server.url}/oauth/wechat`);
    expect(hops.map((h) => new URL(h).searchParams.get('scope')).filter(Boolean)).toEqual([
      'snsapi_base',
    ]);
    expect(body).toContain('回头客');
    // The stored token was still valid: no refresh was needed.
    expect(await stack.emulator.control.callCount('/sns/oauth2/refresh_token')).toBe(refreshes);
  });

  it('stores the OAuth tokens per user with the identity, never in a shared cache', async () => {
    await setBrowserUser({ nickname: 'one' });
    await new Browser().follow(`${stack.server.url}/oauth/wechat`);
    await setBrowserUser({ nickname: 'two' });
    await new Browser().follow(`${stack.server.url}/oauth/wechat`);
    const identities = (await readEmbeddedCollection(stack.dataDir, 'identities')).filter(
      (i) => i.appid === OA_APP.appid,
    );
    const tokens = identities.map((i) => (i.oauth as { accessToken: string }).accessToken);
    const refreshTokens = identities.map((i) => (i.oauth as { refreshToken: string }).refreshToken);
    // Server-only: never in a log line either.
    stack.watchForLeaks(...tokens, ...refreshTokens, STATE_SECRET);
    expect(identities.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tokens).size).toBe(tokens.length);
    const cached = await readEmbeddedCollection(stack.dataDir, 'access_tokens');
    expect(cached.filter((t) => t._id === OA_APP.appid)).toEqual([]);
  });

  it('links the web user to the mini-program user with the same unionid', async () => {
    const unionid = `union-web-${Date.now()}`;
    const mini = await stack.login(undefined, { unionid });
    await setBrowserUser({ nickname: '小程序用户', unionid });
    const browser = new Browser();
    await browser.follow(`${stack.server.url}/oauth/wechat`);
    const sessions = await readEmbeddedCollection(stack.dataDir, 'sessions');
    const web = sessions.find(
      (s) => s._id === browser.cookies.get('wxlogin_session')?.split('.')[0],
    );
    expect(web).toMatchObject({ userId: mini.userId, appid: OA_APP.appid });
  });

  it('shows a 403 page when the user declines consent (a callback without code)', async () => {
    await setBrowserUser({ consent: 'deny' });
    const browser = new Browser();
    const { last, body, hops } = await browser.follow(`${stack.server.url}/oauth/wechat`);
    expect(new URL(hops.at(-1) ?? '').searchParams.has('code')).toBe(false);
    expect(last.status).toBe(403);
    expect(errorCodeOf(body)).toBe('access_denied');
    expect(browser.cookies.has('wxlogin_session')).toBe(false);
  });
});

describe('the callback refuses abuse', () => {
  /** Runs the chain up to WeChat's redirect back, without calling our callback. */
  async function callbackUrl(browser: Browser, scope = 'snsapi_userinfo') {
    const start = await browser.get(`${stack.server.url}/oauth/wechat?scope=${scope}`);
    const atWechat = await browser.get(start.headers.get('location') ?? '');
    return atWechat.headers.get('location') ?? '';
  }

  it('a forged state is refused', async () => {
    await setBrowserUser({});
    const browser = new Browser();
    const url = new URL(await callbackUrl(browser));
    const state = url.searchParams.get('state') ?? '';
    url.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('0') ? '1' : '0'}`);
    const { last, body } = await browser.follow(url.toString());
    expect(last.status).toBe(400);
    expect(errorCodeOf(body)).toBe('invalid_state');
    expect(browser.cookies.has('wxlogin_session')).toBe(false);
  });

  it('a callback made for another browser is refused (login CSRF)', async () => {
    await setBrowserUser({});
    const url = await callbackUrl(new Browser());
    const victim = new Browser();
    await victim.get(`${stack.server.url}/oauth/wechat`); // has a state cookie of its own
    const { last, body } = await victim.follow(url);
    expect(last.status).toBe(400);
    expect(errorCodeOf(body)).toBe('invalid_state');
    expect(victim.cookies.has('wxlogin_session')).toBe(false);
  });

  it('an expired state is refused with its own page', async () => {
    await setBrowserUser({});
    const { code } = await stack.emulator.control.mintOAuthCode({
      appid: OA_APP.appid,
      scope: 'snsapi_userinfo',
    });
    // A genuine state, signed with the server's key, issued 11 minutes ago.
    const { state, cookie } = signedState(11 * 60_000);
    const browser = new Browser();
    browser.cookies.set('wxlogin_oauth', cookie);
    const { last, body } = await browser.follow(
      `${stack.server.url}/oauth/wechat/callback?code=${code}&state=${state}`,
    );
    expect(last.status).toBe(400);
    expect(errorCodeOf(body)).toBe('expired_state');
  });

  it('a replayed callback is refused, and so is a used code under a fresh state', async () => {
    await setBrowserUser({});
    const browser = new Browser();
    const url = await callbackUrl(browser);
    const first = await browser.follow(url);
    expect(first.hops.at(-1)).toBe(`${stack.server.url}/`);
    // Same browser, same URL: the state's cookie was spent by the first callback.
    const replay = await browser.follow(url);
    expect(replay.last.status).toBe(400);
    expect(errorCodeOf(replay.body)).toBe('invalid_state');
    // Even with a valid state, WeChat's code works once.
    const { state, cookie } = signedState();
    const again = new Browser();
    again.cookies.set('wxlogin_oauth', cookie);
    const code = new URL(url).searchParams.get('code') ?? '';
    const used = await again.follow(
      `${stack.server.url}/oauth/wechat/callback?code=${code}&state=${state}`,
    );
    expect(used.last.status).toBe(400);
    expect(errorCodeOf(used.body)).toBe('code_used');
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    'javascript:alert(1)',
    'http:evil.example',
    '/%0d%0aSet-Cookie:x=y',
    // Dot segments normalise into `//host` (a link to another host): refused before that.
    '/.//evil.example/',
    '/a/..//evil.example/',
    '/%2e//evil.example/',
    '/%2E%2E//evil.example/',
    '/x/%2e%2e/%2e%2e//evil.example',
  ])('returnTo=%s is refused before anything else happens', async (returnTo) => {
    const browser = new Browser();
    const answer = await browser.get(
      `${stack.server.url}/oauth/wechat?returnTo=${encodeURIComponent(returnTo)}`,
    );
    const body = await answer.text();
    if (returnTo.startsWith('/%0d')) {
      // Percent-encoded CRLF stays encoded: a harmless same-origin path, never a header.
      expect(answer.status).toBe(302);
      expect(answer.headers.get('set-cookie')).not.toContain('x=y');
      return;
    }
    expect(answer.status).toBe(400);
    expect(errorCodeOf(body)).toBe('bad_return_to');
    expect(answer.headers.get('location')).toBeNull();
    expect(browser.cookies.size).toBe(0);
  });

  it('a WeChat outage during the exchange shows a 502 page and signs nobody in', async () => {
    await setBrowserUser({});
    const browser = new Browser();
    const url = await callbackUrl(browser);
    await stack.emulator.control.injectFault({
      path: '/sns/oauth2/access_token',
      kind: 'http_500',
    });
    const { last, body } = await browser.follow(url);
    expect(last.status).toBe(502);
    expect(errorCodeOf(body)).toBe('wechat_unavailable');
    expect(browser.cookies.has('wxlogin_session')).toBe(false);
  });

  it('an unknown scope is refused', async () => {
    const answer = await fetch(`${stack.server.url}/oauth/wechat?scope=snsapi_login`);
    expect(answer.status).toBe(400);
    expect(errorCodeOf(await answer.text())).toBe('bad_request');
  });
});

describe('GET / and POST /oauth/logout', () => {
  it('shows the signed-out page with a login link, then logs out a signed-in user', async () => {
    const anonymous = await fetch(`${stack.server.url}/`);
    const page = await anonymous.text();
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('set-cookie')).toBeNull();
    expect(page).toContain('href="/oauth/wechat?scope=snsapi_base&amp;returnTo=%2F"');

    await setBrowserUser({ nickname: '要退出的人' });
    const browser = new Browser();
    await browser.follow(`${stack.server.url}/oauth/wechat`);
    const token = browser.cookies.get('wxlogin_session') ?? '';
    // As a browser's form sends it: an empty urlencoded body, and the page's own Origin.
    const out = await browser.get(`${stack.server.url}/oauth/logout`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: stack.server.url,
        'sec-fetch-site': 'same-origin',
      },
      body: '',
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/');
    expect(browser.cookies.has('wxlogin_session')).toBe(false);
    // The session itself is gone, not only the cookie.
    const reuse = await fetch(`${stack.server.url}/`, {
      headers: { cookie: `wxlogin_session=${token}` },
    });
    expect(await reuse.text()).toContain('href="/oauth/wechat?scope=snsapi_base');
  });

  it('refuses a log-out posted from another site (forced log-out, CSRF)', async () => {
    await setBrowserUser({ nickname: '不想被登出的人' });
    const browser = new Browser();
    await browser.follow(`${stack.server.url}/oauth/wechat`);
    const forged: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: stack.server.url },
    ];
    for (const headers of forged) {
      const out = await browser.get(`${stack.server.url}/oauth/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: '',
      });
      expect(out.status).toBe(403);
      expect(errorCodeOf(await out.text())).toBe('bad_origin');
    }
    // Still signed in.
    const page = await browser.follow(`${stack.server.url}/`);
    expect(page.body).toContain('不想被登出的人');
  });

  it('a web-login session is no Bearer token for the mini-program API', async () => {
    await setBrowserUser({ nickname: '网页用户' });
    const browser = new Browser();
    await browser.follow(`${stack.server.url}/oauth/wechat`);
    const token = browser.cookies.get('wxlogin_session') ?? '';
    expect(token).not.toBe('');
    for (const [method, path] of [
      ['GET', '/me'],
      ['POST', '/rewards/welcome'],
    ] as const) {
      const answer = await stack.api(method, path, { token });
      expect(answer.status).toBe(401);
      expect(answer.body.error?.code).toBe('unauthorized');
    }
    // ...and it still works on the pages it was issued for.
    expect((await browser.follow(`${stack.server.url}/`)).body).toContain('网页用户');
  });

  it('escapes what it renders (a nickname is data, never markup)', async () => {
    await setBrowserUser({ nickname: '<img src=x onerror=alert(1)>' });
    const { body } = await new Browser().follow(`${stack.server.url}/oauth/wechat`);
    expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(body).not.toContain('<img src=x');
  });
});

describe('settings', () => {
  it('marks cookies Secure and uses PUBLIC_URL in redirect_uri behind https', async () => {
    const { server } = await stack.extraServer({
      WECHAT_OA_APPID: OA_APP.appid,
      WECHAT_OA_SECRET: OA_APP.secret,
      PUBLIC_URL: 'https://login.example.com',
    });
    const answer = await fetch(`${server.url}/oauth/wechat`, { redirect: 'manual' });
    // __Host- cookies: Secure, Path=/, no Domain, so no sibling subdomain can plant one.
    expect(answer.headers.get('set-cookie')).toMatch(
      /^__Host-wxlogin_oauth=[^;]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(answer.headers.get('location')).toContain(
      `redirect_uri=${encodeURIComponent('https://login.example.com/oauth/wechat/callback')}`,
    );
    // The whole login with __Host- cookies: WeChat sends the browser to PUBLIC_URL, which (a
    // TLS proxy in a real deployment) reaches this process.
    await setBrowserUser({ nickname: 'https 用户' });
    const browser = new Browser();
    const start = await browser.get(`${server.url}/oauth/wechat?scope=snsapi_userinfo`);
    const atWechat = await browser.get(start.headers.get('location') ?? '');
    const callback = new URL(atWechat.headers.get('location') ?? '');
    expect(callback.origin).toBe('https://login.example.com');
    const done = await browser.get(`${server.url}${callback.pathname}${callback.search}`);
    expect(done.status).toBe(302);
    const session = done.headers
      .getSetCookie()
      .find((c) => c.startsWith('__Host-wxlogin_session='));
    for (const attribute of ['; Path=/;', '; HttpOnly', '; Secure', '; SameSite=Lax'])
      expect(session).toContain(attribute);
    expect(session).not.toMatch(/domain=/i);
    const home = await browser.get(`${server.url}/`);
    expect(await home.text()).toContain('https 用户');
    await server.stop();
  });

  it('keeps a generated state key in DATA_DIR (0600) when OAUTH_STATE_SECRET is unset', async () => {
    const { server, dataDir } = await stack.extraServer({
      WECHAT_OA_APPID: OA_APP.appid,
      WECHAT_OA_SECRET: OA_APP.secret,
    });
    await server.stop();
    const key = await stat(join(dataDir, 'oauth-state.key'));
    expect(key.mode & 0o777).toBe(0o600);
  });

  it('has no web routes when no Official Account is configured', async () => {
    const { server } = await stack.extraServer({});
    const answer = await fetch(`${server.url}/oauth/wechat`);
    expect(answer.status).toBe(404);
    await server.stop();
  });
});
