import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthDeps } from '../../src/core.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { codeOf } from '../support/errors.js';
import { APP, useEmulator, useTempDir } from '../support/emulator.js';
import { WechatOAuthClient } from '../../src/wechat/oauth.js';
import type { AuthDeps } from '../../src/auth/deps.js';
import { login } from '../../src/auth/login.js';
import { completeOAuthLogin, parseReturnTo, type WebLoginDeps } from '../../src/auth/web-login.js';

const OA = { appid: 'wx0000000000oauth1', secret: 'oa-emulator-only-secret' } as const;
const HOUR = 3600_000;

const emulator = useEmulator();
const temp = useTempDir('weblogin');
let store: SqliteStore;
let deps: AuthDeps;
let web: WebLoginDeps;
let clockOffsetMs = 0;
const warnings: { details: Record<string, unknown>; message: string }[] = [];

beforeAll(async () => {
  await emulator.current.control.addApp(OA.appid, OA.secret);
  store = await SqliteStore.open({ dataDir: temp.path });
  const origins = { apiOrigin: emulator.current.url, openOrigin: emulator.current.url };
  deps = createAuthDeps({
    apps: [APP],
    store,
    wechat: { ...origins, retryBaseDelayMs: 10, timeoutMs: 2000 },
    now: () => new Date(Date.now() + clockOffsetMs),
    log: { warn: (details, message) => warnings.push({ details, message }) },
  });
  web = { ...deps, oauth: new WechatOAuthClient(origins), officialAccount: OA };
});
afterAll(async () => {
  await store.close();
});
beforeEach(() => {
  clockOffsetMs = 0;
  warnings.length = 0;
});

/** The browser user consents (or not) and WeChat redirects back with a code for `scope`. */
async function oauthCode(
  scope: 'snsapi_base' | 'snsapi_userinfo',
  user: { openid?: string; unionid?: string; nickname?: string } = {},
) {
  await emulator.current.control.setOAuthUser({ appid: OA.appid, ...user });
  return emulator.current.control.mintOAuthCode({ appid: OA.appid, scope });
}

describe('completeOAuthLogin()', () => {
  it('asks for consent (needs_userinfo) when a silent login finds nobody we know', async () => {
    const { code } = await oauthCode('snsapi_base');
    expect(await completeOAuthLogin(code, web)).toEqual({ kind: 'needs_userinfo' });
    expect((await store.exportDocuments()).identities).toHaveLength(0);
  });

  it('signs a consenting user in with their Chinese nickname intact, then silently', async () => {
    const { code, openid } = await oauthCode('snsapi_userinfo', { nickname: '小明🌟' });
    const first = await completeOAuthLogin(code, web);
    expect(first).toMatchObject({ kind: 'signed_in', isNewUser: true });
    if (first.kind !== 'signed_in') return;
    expect(first.user.nickname).toBe('小明🌟');
    expect((await deps.sessions.verify(first.token)).appid).toBe(OA.appid);

    const silent = await completeOAuthLogin((await oauthCode('snsapi_base', { openid })).code, web);
    expect(silent).toMatchObject({ kind: 'signed_in', isNewUser: false });
    if (silent.kind === 'signed_in') expect(silent.user.id).toBe(first.user.id);
  });

  it("cuts a long WeChat nickname to the profile's 64 characters without splitting an emoji", async () => {
    const { code } = await oauthCode('snsapi_userinfo', { nickname: '🌟'.repeat(70) });
    const result = await completeOAuthLogin(code, web);
    expect(result.kind === 'signed_in' && result.user.nickname).toBe('🌟'.repeat(64));
  });

  it('drops control and bidi characters from a WeChat nickname instead of storing them', async () => {
    const { code } = await oauthCode('snsapi_userinfo', { nickname: ' 李\u0000雷\u202e\u001b ' });
    const result = await completeOAuthLogin(code, web);
    expect(result.kind === 'signed_in' && result.user.nickname).toBe('李雷');
  });

  it('links the web user to the mini-program user with the same unionid', async () => {
    const minted = await emulator.current.control.mintLoginCode({
      appid: APP.appid,
      unionid: 'union-web-1',
    });
    const mini = await login({ code: minted.code }, { appid: APP.appid }, deps);
    const { code } = await oauthCode('snsapi_userinfo', { unionid: 'union-web-1' });
    const webLogin = await completeOAuthLogin(code, web);
    expect(webLogin).toMatchObject({ kind: 'signed_in', isNewUser: false });
    if (webLogin.kind === 'signed_in') expect(webLogin.user.id).toBe(mini.user.id);
  });

  it("keeps each user's own tokens and renews one with its refresh token once it expires", async () => {
    const a = await oauthCode('snsapi_userinfo', { nickname: 'A' });
    await completeOAuthLogin(a.code, web);
    const b = await oauthCode('snsapi_userinfo', { nickname: 'B' });
    await completeOAuthLogin(b.code, web);
    const tokensOf = async (openid: string) =>
      (await store.users.findIdentity(OA.appid, openid))?.oauth;
    const [beforeA, beforeB] = [await tokensOf(a.openid), await tokensOf(b.openid)];
    expect(beforeA?.accessToken).toBeTruthy();
    expect(beforeA?.accessToken).not.toBe(beforeB?.accessToken);
    expect(beforeA?.refreshToken).not.toBe(beforeB?.refreshToken);

    // Three hours on, for us and for WeChat: A's access token expired; the refresh token did not.
    clockOffsetMs = 3 * HOUR;
    await emulator.current.control.advanceClock((3 * HOUR) / 1000);
    const refreshesBefore = await emulator.current.control.callCount('/sns/oauth2/refresh_token');
    await emulator.current.control.setOAuthUser({
      appid: OA.appid,
      openid: a.openid,
      nickname: 'A renamed',
    });
    const silent = await completeOAuthLogin(
      (await emulator.current.control.mintOAuthCode({ appid: OA.appid, scope: 'snsapi_base' }))
        .code,
      web,
    );
    expect(silent).toMatchObject({ kind: 'signed_in', user: { nickname: 'A renamed' } });
    expect(await emulator.current.control.callCount('/sns/oauth2/refresh_token')).toBe(
      refreshesBefore + 1,
    );
    const afterA = await tokensOf(a.openid);
    expect(afterA?.accessToken).not.toBe(beforeA?.accessToken);
    expect(afterA?.refreshToken).toBe(beforeA?.refreshToken);
    expect(afterA?.refreshTokenExpiresAt).toEqual(beforeA?.refreshTokenExpiresAt);
    expect(await tokensOf(b.openid)).toEqual(beforeB);
  });

  it('renews once when WeChat refuses a token our clock still thinks valid', async () => {
    const a = await oauthCode('snsapi_userinfo', { nickname: 'C' });
    await completeOAuthLogin(a.code, web);
    // Only WeChat's clock moves: our record says valid, /sns/userinfo answers 42001.
    await emulator.current.control.advanceClock((3 * HOUR) / 1000);
    const refreshesBefore = await emulator.current.control.callCount('/sns/oauth2/refresh_token');
    const { code } = await emulator.current.control.mintOAuthCode({
      appid: OA.appid,
      scope: 'snsapi_base',
    });
    expect(await completeOAuthLogin(code, web)).toMatchObject({ kind: 'signed_in' });
    expect(await emulator.current.control.callCount('/sns/oauth2/refresh_token')).toBe(
      refreshesBefore + 1,
    );
  });

  it('still signs in silently when the profile refresh fails, and says why in the log', async () => {
    const a = await oauthCode('snsapi_userinfo', { nickname: 'D' });
    await completeOAuthLogin(a.code, web);
    await emulator.current.control.injectFault({ path: '/sns/userinfo', kind: 'http_500' });
    const { code } = await emulator.current.control.mintOAuthCode({
      appid: OA.appid,
      scope: 'snsapi_base',
    });
    expect(await completeOAuthLogin(code, web)).toMatchObject({
      kind: 'signed_in',
      user: { nickname: 'D' },
    });
    expect(warnings.map((w) => w.details.event)).toEqual(['oauth_profile_refresh_failed']);
    await emulator.current.control.clearFaults();
  });

  it('answers code_used for a replayed code and invalid_code for a foreign one', async () => {
    const { code } = await oauthCode('snsapi_userinfo');
    await completeOAuthLogin(code, web);
    expect(await codeOf(completeOAuthLogin(code, web))).toBe('code_used');
    expect(await codeOf(completeOAuthLogin('no-such-code', web))).toBe('invalid_code');
    expect(await codeOf(completeOAuthLogin('', web))).toBe('invalid_code');
  });

  it('refuses a malformed code (empty, too long, control characters) without asking WeChat', async () => {
    const exchanges = () => emulator.current.control.callCount('/sns/oauth2/access_token');
    const before = await exchanges();
    for (const code of ['', 'x'.repeat(257), 'abc\u0000def', 'abc\ndef'])
      expect(await codeOf(completeOAuthLogin(code, web))).toBe('invalid_code');
    expect(await exchanges()).toBe(before);
    // Spaces and other visible characters fit the one code rule (DevTools' mock login code has
    // spaces): WeChat itself says whether such a code is valid.
    expect(await codeOf(completeOAuthLogin('not a code', web))).toBe('invalid_code');
    expect(await exchanges()).toBe(before + 1);
  });
});

describe('login() and a unionid that appears later', () => {
  it('logs the conflict and keeps both users when another user holds the unionid', async () => {
    const holder = await emulator.current.control.mintLoginCode({
      appid: APP.appid,
      unionid: 'union-held',
    });
    const held = await login({ code: holder.code }, { appid: APP.appid }, deps);
    const { code, openid } = await oauthCode('snsapi_userinfo');
    const webUser = await completeOAuthLogin(code, web);
    // The same web identity now comes back with the unionid the mini-program user holds.
    await emulator.current.control.setOAuthUser({
      appid: OA.appid,
      openid,
      unionid: 'union-held',
    });
    const again = await completeOAuthLogin(
      (await emulator.current.control.mintOAuthCode({ appid: OA.appid, scope: 'snsapi_userinfo' }))
        .code,
      web,
    );
    expect(again.kind === 'signed_in' && webUser.kind === 'signed_in').toBe(true);
    if (again.kind !== 'signed_in' || webUser.kind !== 'signed_in') return;
    expect(again.user.id).toBe(webUser.user.id);
    expect(again.user.id).not.toBe(held.user.id);
    expect(warnings).toEqual([
      {
        details: {
          event: 'unionid_conflict',
          appid: OA.appid,
          userId: webUser.user.id,
          heldByUserId: held.user.id,
        },
        message: expect.stringContaining('kept apart') as string,
      },
    ]);
  });
});

describe('parseReturnTo()', () => {
  it.each([
    [undefined, '/'],
    ['', '/'],
    ['/', '/'],
    ['/orders?id=1#top', '/orders?id=1#top'],
    ['/a/b.c/d', '/a/b.c/d'],
  ])('accepts %j as %j', (input, expected) => {
    expect(parseReturnTo(input)).toBe(expected);
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    '\\\\evil.example',
    'javascript:alert(1)',
    '/\tevil',
    ' /x',
    'orders',
    42,
    `/${'a'.repeat(600)}`,
    // Dot segments, refused before normalisation could turn them into `//host`.
    '/a/../b',
    '/.//evil.example',
    '/%2e//evil.example',
    '/%2E%2e/x',
    '/x/..',
  ])('refuses %j', (input) => {
    expect(parseReturnTo(input)).toBeNull();
  });
});
