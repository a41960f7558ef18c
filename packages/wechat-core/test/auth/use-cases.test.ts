import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDeps } from '../../src/core.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { codeOf } from '../support/errors.js';
import { APP, OTHER_APP, useEmulator, useTempDir } from '../support/emulator.js';
import type { AuthDeps } from '../../src/auth/deps.js';
import { login, loginWithIdentity } from '../../src/auth/login.js';
import { logout, me } from '../../src/auth/account.js';
import { type PhoneNumbers, bindPhone, bindPhoneCode } from '../../src/auth/phone.js';
import { updateProfile } from '../../src/auth/profile.js';

const emulator = useEmulator();
const temp = useTempDir('usecases');
const DAY = 24 * 3600_000;

let store: SqliteStore;
let deps: AuthDeps;
let clockOffsetMs = 0;

beforeAll(async () => {
  store = await SqliteStore.open({ dataDir: temp.path });
  deps = createAuthDeps({
    apps: [APP, OTHER_APP],
    store,
    wechat: {
      apiOrigin: emulator.current.url,
      openOrigin: emulator.current.url,
      retryBaseDelayMs: 10,
      timeoutMs: 1000,
    },
    sessionTtlDays: 30,
    now: () => new Date(Date.now() + clockOffsetMs),
  });
});
afterAll(async () => {
  await store.close();
});

async function counts() {
  const docs = await store.exportDocuments();
  return {
    users: docs.users.length,
    identities: docs.identities.length,
    sessions: docs.sessions.length,
  };
}

/** wx.login on the phone + POST /login on our side. */
async function freshLogin(openid?: string) {
  const minted = await emulator.current.control.mintLoginCode({
    appid: APP.appid,
    ...(openid ? { openid } : {}),
  });
  const result = await login({ code: minted.code }, { appid: APP.appid }, deps);
  return { ...result, openid: minted.openid };
}

describe('login()', () => {
  it('creates a user on the first login and returns the same user on the next', async () => {
    const first = await freshLogin();
    expect(first.isNewUser).toBe(true);
    expect(first.token).toMatch(/^[\w-]{20}\.[\w-]{43}$/);
    expect(new Date(first.expiresAt).getTime() - Date.now()).toBeGreaterThan(29 * DAY);
    expect(Object.keys(first.user).sort()).toEqual(['createdAt', 'id']);
    const second = await freshLogin(first.openid);
    expect(second.isNewUser).toBe(false);
    expect(second.user.id).toBe(first.user.id);
    expect(second.token).not.toBe(first.token);
  });

  it('returns code_used when the code was already exchanged, issuing nothing', async () => {
    const { code } = await emulator.current.control.mintLoginCode({ appid: APP.appid });
    await login({ code }, { appid: APP.appid }, deps);
    const before = await counts();
    expect(await codeOf(login({ code }, { appid: APP.appid }, deps))).toBe('code_used');
    expect(await counts()).toEqual(before);
  });

  it('returns invalid_code for a code of another app, writing nothing', async () => {
    const { code } = await emulator.current.control.mintLoginCode({ appid: OTHER_APP.appid });
    const before = await counts();
    expect(await codeOf(login({ code }, { appid: APP.appid }, deps))).toBe('invalid_code');
    expect(await counts()).toEqual(before);
  });

  it('returns wechat_unavailable when WeChat keeps failing, writing nothing', async () => {
    const { control } = emulator.current;
    const { code } = await control.mintLoginCode({ appid: APP.appid });
    await control.injectFault({
      path: '/sns/jscode2session',
      kind: 'errcode',
      errcode: -1,
      times: 'always',
    });
    const before = await counts();
    try {
      expect(await codeOf(login({ code }, { appid: APP.appid }, deps))).toBe('wechat_unavailable');
      expect(await counts()).toEqual(before);
    } finally {
      await control.clearFaults();
    }
  });

  it.each([
    ['no body', undefined],
    ['no code', {}],
    ['a numeric code', { code: 12345 }],
    ['an empty code', { code: '' }],
    ['a code with a control character', { code: 'a\u0000b' }],
    ['a code with a line break', { code: 'a\nb' }],
    ['a code with a bidi override', { code: 'a\u202eb' }],
    ['a 10 KB code', { code: 'x'.repeat(10_000) }],
    ['an unknown key', { code: 'abc', admin: true }],
    ['a __proto__ key', JSON.parse('{"code":"abc","__proto__":{"admin":true}}') as unknown],
    ['an array', ['abc']],
  ])('returns bad_request for %s', async (_name, input) => {
    expect(await codeOf(login(input, { appid: APP.appid }, deps))).toBe('bad_request');
  });

  it("hands WeChat any code it could have issued, DevTools' mock code with its spaces included", async () => {
    // This emulator is not in DevTools mode: like WeChat, it refuses the code (40029).
    expect(
      await codeOf(login({ code: 'the code is a mock one' }, { appid: APP.appid }, deps)),
    ).toBe('invalid_code');
  });

  it('returns bad_request for an appid this server is not configured for', async () => {
    expect(await codeOf(login({ code: 'abc' }, { appid: 'wx-unknown' }, deps))).toBe('bad_request');
  });
});

describe('sessions through me() and logout()', () => {
  it('me() answers for a valid token and unauthorized after logout', async () => {
    const { token, user } = await freshLogin();
    const session = await deps.sessions.verify(token);
    expect((await me(session, deps)).user.id).toBe(user.id);
    await logout(token, deps);
    expect(await codeOf(deps.sessions.verify(token))).toBe('unauthorized');
    expect(await codeOf(logout(token, deps))).toBe('unauthorized');
  });

  it.each([
    [
      'a flipped character',
      (t: string) => (t.endsWith('A') ? `${t.slice(0, -1)}B` : `${t.slice(0, -1)}A`),
    ],
    ['a missing token', () => undefined],
    ['garbage', () => 'Bearer nonsense'],
    ['an unknown id', (t: string) => `AAAAAAAAAAAAAAAAAAAA${t.slice(20)}`],
  ])('rejects a token with %s as unauthorized', async (_name, mutate) => {
    const { token } = await freshLogin();
    expect(await codeOf(deps.sessions.verify(mutate(token)))).toBe('unauthorized');
  });

  it('slides the expiry of a session used in the last half of its life, and expires an idle one', async () => {
    const { token } = await freshLogin();
    const { sessionId } = await deps.sessions.verify(token);
    try {
      clockOffsetMs = 20 * DAY;
      await deps.sessions.verify(token);
      const extended = await store.sessions.findActive(
        sessionId,
        new Date(Date.now() + clockOffsetMs),
      );
      expect(extended?.expiresAt.getTime()).toBeGreaterThan(Date.now() + 49 * DAY);
      clockOffsetMs = 51 * DAY; // 31 days after the extension: expired
      expect(await codeOf(deps.sessions.verify(token))).toBe('unauthorized');
    } finally {
      clockOffsetMs = 0;
    }
  });
});

describe('updateProfile()', () => {
  it('saves a nickname and an avatar URL (current way)', async () => {
    const { token } = await freshLogin();
    const session = await deps.sessions.verify(token);
    await updateProfile({ nickname: '  小程序用户 ' }, session, deps);
    const { user } = await updateProfile({ avatarUrl: 'https://example.com/a.png' }, session, deps);
    expect(user).toMatchObject({ nickname: '小程序用户', avatarUrl: 'https://example.com/a.png' });
  });

  it.each([
    ['an empty body', {}],
    ['a blank nickname', { nickname: '   ' }],
    ['a 65-character nickname', { nickname: 'n'.repeat(65) }],
    ['a javascript: avatar', { avatarUrl: 'javascript:alert(1)' }],
    ['rawData without signature', { encryptedData: 'AAAA', iv: 'AAAA', rawData: '{}' }],
  ])('returns bad_request for %s', async (_name, input) => {
    const { token } = await freshLogin();
    expect(await codeOf(updateProfile(input, await deps.sessions.verify(token), deps))).toBe(
      'bad_request',
    );
  });

  it('decrypts the legacy getUserInfo payload and checks its signature', async () => {
    const { token, openid } = await freshLogin();
    const session = await deps.sessions.verify(token);
    const payload = await emulator.current.control.encryptedUserInfo({
      appid: APP.appid,
      openid,
      nickName: '旧接口',
    });
    const { user } = await updateProfile(payload, session, deps);
    expect(user.nickname).toBe('旧接口');
  });

  it('returns invalid_encrypted_data for a tampered rawData signature', async () => {
    const { token, openid } = await freshLogin();
    const session = await deps.sessions.verify(token);
    const payload = await emulator.current.control.encryptedUserInfo({ appid: APP.appid, openid });
    const tampered = { ...payload, rawData: payload.rawData.replace('微信用户', '管理员') };
    expect(await codeOf(updateProfile(tampered, session, deps))).toBe('invalid_encrypted_data');
  });

  it('returns invalid_encrypted_data when the watermark names another app', async () => {
    const { token, openid } = await freshLogin();
    const session = await deps.sessions.verify(token);
    const payload = await emulator.current.control.encryptedUserInfo({
      appid: APP.appid,
      openid,
      watermarkAppid: OTHER_APP.appid,
    });
    expect(await codeOf(updateProfile(payload, session, deps))).toBe('invalid_encrypted_data');
  });

  it('returns session_key_stale after the client logged in again without telling us', async () => {
    const { token, openid } = await freshLogin();
    const session = await deps.sessions.verify(token);
    // wx.login on the phone rotates the key; our server never exchanged the new code.
    await emulator.current.control.mintLoginCode({ appid: APP.appid, openid });
    const payload = await emulator.current.control.encryptedUserInfo({ appid: APP.appid, openid });
    expect(await codeOf(updateProfile(payload, session, deps))).toBe('session_key_stale');
    expect((await me(session, deps)).user.nickname).toBeUndefined();
  });
});

describe('bindPhone()', () => {
  it('binds the number behind a phone code, and a reused code changes nothing', async () => {
    const { token } = await freshLogin();
    const session = await deps.sessions.verify(token);
    const { codes } = await emulator.current.control.mintPhoneCodes({
      appid: APP.appid,
      purePhoneNumber: '13711112222',
    });
    const { user } = await bindPhone({ code: codes[0] }, session, deps);
    expect(user.phone).toEqual({ purePhoneNumber: '13711112222', countryCode: '86' });
    expect(await codeOf(bindPhone({ code: codes[0] }, session, deps))).toBe('invalid_code');
    expect((await me(session, deps)).user.phone?.purePhoneNumber).toBe('13711112222');
  });

  it('binds the number from the legacy encrypted payload', async () => {
    const { token, openid } = await freshLogin();
    const session = await deps.sessions.verify(token);
    const payload = await emulator.current.control.encryptedPhone({
      appid: APP.appid,
      openid,
      purePhoneNumber: '2025550123',
      countryCode: '1',
    });
    const { user } = await bindPhone(payload, session, deps);
    expect(user.phone).toEqual({ purePhoneNumber: '2025550123', countryCode: '1' });
  });

  it("refuses a number whose watermark names another app, and stores nothing (either runtime's exchange)", async () => {
    const { token } = await freshLogin();
    const session = await deps.sessions.verify(token);
    // What WeChat's exchange answered, as the port carries it: a number issued for another app.
    const foreign: PhoneNumbers = {
      exchange: () =>
        Promise.resolve({
          purePhoneNumber: '13799990000',
          countryCode: '86',
          watermarkAppid: OTHER_APP.appid,
        }),
    };
    expect(await codeOf(bindPhoneCode('any-code', session, foreign, deps))).toBe(
      'invalid_encrypted_data',
    );
    expect((await me(session, deps)).user.phone).toBeUndefined();
  });

  it('returns bad_request for a body that is neither form', async () => {
    const { token } = await freshLogin();
    expect(
      await codeOf(bindPhone({ phone: '13800138000' }, await deps.sessions.verify(token), deps)),
    ).toBe('bad_request');
  });
});

describe('loginWithIdentity()', () => {
  it('upserts the user the cloud runtime vouches for, once', async () => {
    const ctx = { appid: APP.appid, openid: 'o-cloud-user-1' };
    const first = await loginWithIdentity(ctx, deps);
    const second = await loginWithIdentity(ctx, deps);
    expect(first.isNewUser).toBe(true);
    expect(second).toEqual({ isNewUser: false, user: first.user });
  });

  it('returns bad_request for an empty openid', async () => {
    expect(await codeOf(loginWithIdentity({ appid: APP.appid, openid: '' }, deps))).toBe(
      'bad_request',
    );
  });
});
