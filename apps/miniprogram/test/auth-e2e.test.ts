/**
 * The client's services end to end: a wx stand-in whose wx.login mints a code from the emulator
 * (as the phone would get one) and whose wx.request makes real HTTP calls to the real server
 * process, which talks to the real emulator process.
 */
import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EmulatorProcess, startEmulatorProcess } from '@wxlogin/wechat-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService, SESSION_STORAGE_KEY } from '../miniprogram/services/auth.js';
import { HttpTransport } from '../miniprogram/services/transport.js';
import { type ServerProcess, startServer } from './server-process.js';
import { WxStandin, realHttp } from './wx-standin.js';

const APP = { appid: 'wx000000000000mini', secret: 'miniprogram-test-secret' };

let emulator: EmulatorProcess | undefined;
let server: ServerProcess | undefined;
let dataDir = '';
let data: TempDir | undefined;

beforeAll(async () => {
  // DevTools mode for the app, as `npm start` runs it: minted codes keep their rules.
  emulator = await startEmulatorProcess({ apps: [APP], devtoolsApps: [APP.appid] });
  data = await tempDir('mp');
  dataDir = data.path;
  server = await startServer({ app: APP, emulatorUrl: emulator.url, dataDir });
});

afterAll(async () => {
  await server?.stop();
  await emulator?.stop();
  await data?.remove();
});

/** One "phone" with the app's real appid: a fixed openid, so every wx.login is that user. */
function phone(openid: string) {
  const control = emulator?.control;
  if (!control || !server) throw new Error('stack not started');
  const wx = new WxStandin(
    realHttp,
    async () => (await control.mintLoginCode({ appid: APP.appid, openid })).code,
  );
  wx.appid = APP.appid;
  return { wx, auth: new AuthService(wx, new HttpTransport(wx, server.url)), control };
}

describe('client services against the real server and emulator', () => {
  it('previews in DevTools without an appid: the mock code logs in one local user', async () => {
    if (!server) throw new Error('stack not started');
    const devtools = () => {
      const wx = new WxStandin(realHttp); // appid: touristappid, as DevTools without one
      return { wx, auth: new AuthService(wx, new HttpTransport(wx, server?.url ?? '')) };
    };
    const first = devtools();
    await first.auth.ensureLoggedIn();
    const second = devtools();
    await second.auth.ensureLoggedIn();
    expect(first.auth.user?.id).toBeTruthy();
    expect(second.auth.user?.id).toBe(first.auth.user?.id);
    // The tourist appid is not sent: the server's default app (the dev app) answers.
    expect(first.wx.requests.some((r) => r.appid)).toBe(false);
  });

  it('logs in at launch, saves profile and phone, and the stored token works on /me', async () => {
    const { wx, auth, control } = phone('oMiniprogramUser000000000001');
    await auth.ensureLoggedIn();
    expect(wx.loginCalls).toBe(1);
    const firstUserId = auth.user?.id;
    expect(firstUserId).toBeTruthy();

    await auth.request('userinfo', { nickname: '小程序用户' });
    const { codes } = await control.mintPhoneCodes({
      appid: APP.appid,
      purePhoneNumber: '13512345678',
    });
    await auth.request('phone', { code: codes[0] as string });

    const me = await auth.request('me', undefined);
    expect(me.user).toMatchObject({
      id: firstUserId,
      nickname: '小程序用户',
      phone: { purePhoneNumber: '13512345678', countryCode: '86' },
    });
    // The token in storage is what the server knows: use it directly.
    const stored = wx.getStorageSync(SESSION_STORAGE_KEY) as { token: string };
    const direct = await fetch(`${server?.url}/me`, {
      headers: { authorization: `Bearer ${stored.token}` },
    });
    expect(direct.status).toBe(200);

    await auth.logout();
    expect(
      (await fetch(`${server?.url}/me`, { headers: { authorization: `Bearer ${stored.token}` } }))
        .status,
    ).toBe(401);
  });

  it('uploads a chosen avatar (a temporary file) and saves its URL as the profile avatar', async () => {
    const { auth } = phone('oMiniprogramUser000000000004');
    // A real 1×1 PNG: the server decodes and re-encodes every avatar.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
      'base64',
    );
    const filePath = join(dataDir, 'wxfile-tmp-avatar.png');
    await writeFile(filePath, png);
    const avatarUrl = await auth.uploadAvatar(filePath);
    expect(avatarUrl).toMatch(/\/avatars\/[\w-]{22}$/);
    const { user } = await auth.request('userinfo', { avatarUrl });
    expect(user.avatarUrl).toBe(avatarUrl);
    const served = await fetch(avatarUrl);
    // Served as the image the server re-encoded from it (a PNG: the original has transparency).
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).subarray(0, 8)).toEqual(png.subarray(0, 8));
  });

  it('logs in again by itself when the server drops the session, and keeps the same user', async () => {
    const { wx, auth } = phone('oMiniprogramUser000000000002');
    await auth.ensureLoggedIn();
    const before = auth.user?.id;
    const stored = wx.getStorageSync(SESSION_STORAGE_KEY) as { token: string };
    // The session ends on the server behind the client's back.
    await fetch(`${server?.url}/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stored.token}` },
    });
    const me = await auth.request('me', undefined);
    expect(me.user.id).toBe(before);
    expect(wx.loginCalls).toBe(2);
  });

  it('recovers from session_key_stale: log in again, then the resent data goes through', async () => {
    const { auth, control } = phone('oMiniprogramUser000000000003');
    await auth.ensureLoggedIn();
    // wx.login elsewhere rotated the key: the payload no longer matches what the server holds.
    await control.mintLoginCode({ appid: APP.appid, openid: 'oMiniprogramUser000000000003' });
    const stale = await control.encryptedUserInfo({
      appid: APP.appid,
      openid: 'oMiniprogramUser000000000003',
      nickName: '旧资料',
    });
    const error = (await auth.request('userinfo', stale).catch((e: unknown) => e)) as {
      code?: string;
    };
    expect(error.code).toBe('session_key_stale');
    await auth.recoverFromStaleKey();
    const fresh = await control.encryptedUserInfo({
      appid: APP.appid,
      openid: 'oMiniprogramUser000000000003',
      nickName: '旧资料',
    });
    expect((await auth.request('userinfo', fresh)).user.nickname).toBe('旧资料');
  });
});
