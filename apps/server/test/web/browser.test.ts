/**
 * The Official Account login in a real browser: Debian's Chromium driven by playwright-core,
 * against the real server and the emulator standing in for open.weixin.qq.com. `.ci/run` installs
 * Chromium (apt-get) and sets REQUIRE_CHROMIUM=1; elsewhere, without /usr/bin/chromium, the file
 * prints a skip line (or fails, when REQUIRE_CHROMIUM is set).
 * Leaves a screenshot of the signed-in page in <repo>/.artifacts/ (git-ignored).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TEST_STATE_SECRET, signedState } from '../support/oauth.js';
import { OA_APP, useStack } from '../support/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../../.artifacts/', import.meta.url));
export const SCREENSHOT = `${ARTIFACTS}oauth-signed-in.png`;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.REQUIRE_CHROMIUM)
    throw new Error(`REQUIRE_CHROMIUM is set but ${CHROMIUM} does not exist`);
  console.log(
    `SKIP OAuth browser test (${CHROMIUM} not found; install Debian's chromium, as .ci/run does, or set CHROMIUM_PATH)`,
  );
}

describe.skipIf(!haveChromium)('Official Account login in Chromium', () => {
  const stack = useStack({
    env: {
      WECHAT_OA_APPID: OA_APP.appid,
      WECHAT_OA_SECRET: OA_APP.secret,
      OAUTH_STATE_SECRET: TEST_STATE_SECRET,
    },
  });
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Closed network: without these Chromium keeps dialling Google's hosts.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 480, height: 640 } });
    page = await context.newPage();
  });
  afterEach(async () => {
    await context.close();
  });

  const errorOnPage = () => page.locator('[data-error]').getAttribute('data-error');
  // The browser carries #wechat_redirect over the redirects (fragment inheritance): compare
  // without it.
  const onHome = (url: URL) => `${url.origin}${url.pathname}` === `${stack.server.url}/`;

  /**
   * Starts a login in this browser (its state cookie set) and stops at WeChat's authorize page
   * (a one-off fault there); answers the callback URL WeChat would send the browser to.
   */
  async function pendingCallback(): Promise<string> {
    await stack.emulator.control.injectFault({
      path: '/connect/oauth2/authorize',
      kind: 'http_500',
    });
    await page.goto(`${stack.server.url}/oauth/wechat?scope=snsapi_userinfo`);
    const state = new URL(page.url()).searchParams.get('state');
    expect(state).toMatch(/^[a-zA-Z0-9]{1,128}$/);
    const { code } = await stack.emulator.control.mintOAuthCode({
      appid: OA_APP.appid,
      scope: 'snsapi_userinfo',
    });
    return `${stack.server.url}/oauth/wechat/callback?code=${code}&state=${state}`;
  }

  it('runs the whole redirect chain and lands on / with the nickname and avatar shown', async () => {
    await stack.emulator.control.setOAuthUser({
      appid: OA_APP.appid,
      nickname: '李雷 Li Lei 🎉',
      headimgurl: `${stack.emulator.url}/mmopen/emulator-avatar.svg`,
    });
    const visited: string[] = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest()) visited.push(request.url());
    });
    await page.goto(`${stack.server.url}/`);
    await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
    await page.click('#login');
    await page.waitForURL(onHome);
    await expect
      .poll(() => page.locator('[data-testid="nickname"]').textContent())
      .toBe('李雷 Li Lei 🎉');
    // Silent first (snsapi_base), then consent (snsapi_userinfo) for this new user.
    const scopes = visited
      .map((url) => new URL(url))
      .filter((url) => url.pathname === '/connect/oauth2/authorize')
      .map((url) => url.searchParams.get('scope'));
    expect(scopes).toEqual(['snsapi_base', 'snsapi_userinfo']);
    const avatarWidth = await page
      .locator('img.avatar')
      .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    expect(avatarWidth).toBeGreaterThan(0);

    const session = (await context.cookies()).find((c) => c.name === 'wxlogin_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect((await context.cookies()).some((c) => c.name === 'wxlogin_oauth')).toBe(false);
    stack.watchForLeaks(session?.value ?? 'missing-session');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);

    await page.click('button[type="submit"]');
    await page.waitForURL(onHome);
    await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
  }, 60_000);

  it('refuses a forged state', async () => {
    const url = new URL(await pendingCallback());
    const state = url.searchParams.get('state') ?? '';
    url.searchParams.set(
      'state',
      `${state.slice(0, 10)}${state.slice(10, 11) === 'a' ? 'b' : 'a'}${state.slice(11)}`,
    );
    const response = await page.goto(url.toString());
    expect(response?.status()).toBe(400);
    expect(await errorOnPage()).toBe('invalid_state');
  }, 30_000);

  it('refuses an expired state', async () => {
    const { code } = await stack.emulator.control.mintOAuthCode({
      appid: OA_APP.appid,
      scope: 'snsapi_userinfo',
    });
    const { state, cookie } = signedState(11 * 60_000);
    await context.addCookies([
      {
        name: 'wxlogin_oauth',
        value: cookie,
        url: `${stack.server.url}/oauth/wechat`,
        httpOnly: true,
        sameSite: 'Lax',
      },
    ]);
    const response = await page.goto(
      `${stack.server.url}/oauth/wechat/callback?code=${code}&state=${state}`,
    );
    expect(response?.status()).toBe(400);
    expect(await errorOnPage()).toBe('expired_state');
  }, 30_000);

  it('refuses a replayed callback', async () => {
    const url = await pendingCallback();
    const first = await page.goto(url);
    expect(first?.status()).toBe(200);
    expect(onHome(new URL(page.url()))).toBe(true);
    const replay = await page.goto(url);
    expect(replay?.status()).toBe(400);
    expect(await errorOnPage()).toBe('invalid_state');
  }, 30_000);

  it.each(['https://evil.example/', '//evil.example/', '/\\evil.example/'])(
    'refuses the open redirect returnTo=%s',
    async (returnTo) => {
      const response = await page.goto(
        `${stack.server.url}/oauth/wechat?returnTo=${encodeURIComponent(returnTo)}`,
      );
      expect(response?.status()).toBe(400);
      expect(new URL(page.url()).origin).toBe(stack.server.url);
      expect(await errorOnPage()).toBe('bad_return_to');
    },
    30_000,
  );
});
