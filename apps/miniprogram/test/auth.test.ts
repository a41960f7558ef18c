import { describe, expect, it } from 'vitest';
import { AuthService, SESSION_STORAGE_KEY } from '../miniprogram/services/auth.js';
import { ClientError } from '../miniprogram/services/errors.js';
import { CloudTransport, HttpTransport } from '../miniprogram/services/transport.js';
import type { WxCloudApi } from '../miniprogram/services/wx-api.js';
import { type RequestHandler, WxStandin } from './wx-standin.js';

const BASE = 'http://server.test';
const HOUR = 3600_000;

/** A scripted server: /login issues token-<n>; /me accepts `valid` tokens; /logout answers 204. */
function scriptedServer(
  options: {
    meStatus?: (token: string | undefined, call: number) => number;
    meHeader?: Record<string, string>;
  } = {},
) {
  let logins = 0;
  let meCalls = 0;
  const handler: RequestHandler = async ({ url, header }) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const path = new URL(url).pathname;
    const token = header.authorization?.replace('Bearer ', '');
    if (path === '/login') {
      logins += 1;
      return {
        statusCode: 200,
        data: {
          token: `token-${logins}`,
          expiresAt: new Date(Date.now() + HOUR).toISOString(),
          isNewUser: logins === 1,
          user: { id: 'u1', createdAt: '2026-01-01T00:00:00.000Z' },
        },
      };
    }
    if (path === '/me') {
      meCalls += 1;
      const status = options.meStatus?.(token, meCalls) ?? 200;
      if (status === 200)
        return {
          statusCode: 200,
          data: { user: { id: 'u1', createdAt: '2026-01-01T00:00:00.000Z' } },
        };
      const code = status === 401 ? 'unauthorized' : status === 429 ? 'rate_limited' : 'internal';
      return {
        statusCode: status,
        data: { error: { code, message: code } },
        header: options.meHeader ?? {},
      };
    }
    if (path === '/logout') return { statusCode: 204 };
    return { statusCode: 404, data: { error: { code: 'not_found', message: 'no route' } } };
  };
  return handler;
}

function setup(handler: RequestHandler, options: { sleeps?: number[] } = {}) {
  const wx = new WxStandin(handler);
  const auth = new AuthService(wx, new HttpTransport(wx, BASE), {
    sleep: (ms) => {
      options.sleeps?.push(ms);
      return Promise.resolve();
    },
  });
  return { wx, auth };
}

describe('AuthService', () => {
  it('makes 5 concurrent calls while logged out cause one wx.login and one /login', async () => {
    const { wx, auth } = setup(scriptedServer());
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => auth.request('me', undefined)),
    );
    expect(answers.every((a) => a.user.id === 'u1')).toBe(true);
    expect(wx.loginCalls).toBe(1);
    expect(wx.count('/login')).toBe(1);
    expect(wx.requests.filter((r) => r.path === '/me').map((r) => r.authorization)).toEqual(
      new Array(5).fill('Bearer token-1'),
    );
  });

  it('reuses a stored token that wx.checkSession still accepts', async () => {
    const { wx, auth } = setup(scriptedServer());
    wx.setStorageSync(SESSION_STORAGE_KEY, {
      token: 'token-kept',
      expiresAt: new Date(Date.now() + HOUR).toISOString(),
    });
    await auth.ensureLoggedIn();
    expect(wx.loginCalls).toBe(0);
    await auth.request('me', undefined);
    expect(wx.requests.at(-1)?.authorization).toBe('Bearer token-kept');
  });

  it.each([
    ['wx.checkSession fails', { checkSessionOk: false, expiresIn: HOUR }],
    ['the stored token expired', { checkSessionOk: true, expiresIn: -1 }],
  ])('logs in again when %s', async (_name, { checkSessionOk, expiresIn }) => {
    const { wx, auth } = setup(scriptedServer());
    wx.checkSessionOk = checkSessionOk;
    wx.setStorageSync(SESSION_STORAGE_KEY, {
      token: 'token-old',
      expiresAt: new Date(Date.now() + expiresIn).toISOString(),
    });
    await auth.ensureLoggedIn();
    expect(wx.loginCalls).toBe(1);
    expect((wx.getStorageSync(SESSION_STORAGE_KEY) as { token: string }).token).toBe('token-1');
  });

  it('answers a 401 with one re-login and one retry', async () => {
    const { wx, auth } = setup(
      scriptedServer({ meStatus: (token) => (token === 'token-1' ? 401 : 200) }),
    );
    const answer = await auth.request('me', undefined);
    expect(answer.user.id).toBe('u1');
    expect(wx.loginCalls).toBe(2);
    expect(wx.requests.filter((r) => r.path === '/me').map((r) => r.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('fails with unauthorized on a second 401, without looping', async () => {
    const { wx, auth } = setup(scriptedServer({ meStatus: () => 401 }));
    const error = await auth.request('me', undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('unauthorized');
    expect(wx.count('/me')).toBe(2);
    expect(wx.loginCalls).toBe(2);
  });

  it('shares one re-login among concurrent requests that got 401 with the same token', async () => {
    const { wx, auth } = setup(
      scriptedServer({ meStatus: (token) => (token === 'token-1' ? 401 : 200) }),
    );
    await auth.ensureLoggedIn();
    await Promise.all(Array.from({ length: 5 }, () => auth.request('me', undefined)));
    expect(wx.loginCalls).toBe(2);
  });

  it('stores { token, expiresAt } after login and nothing after logout (which tells the server)', async () => {
    const { wx, auth } = setup(scriptedServer());
    await auth.ensureLoggedIn();
    const stored = wx.getStorageSync(SESSION_STORAGE_KEY) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(['expiresAt', 'token']);
    expect(stored.token).toBe('token-1');
    await auth.logout();
    expect(wx.storage.has(SESSION_STORAGE_KEY)).toBe(false);
    expect(wx.requests.at(-1)).toEqual({
      method: 'POST',
      path: '/logout',
      authorization: 'Bearer token-1',
    });
  });

  it('waits Retry-After once on rate_limited, and surfaces a long one', async () => {
    const sleeps: number[] = [];
    const short = setup(
      scriptedServer({
        meStatus: (_t, call) => (call === 1 ? 429 : 200),
        meHeader: { 'retry-after': '2' },
      }),
      { sleeps },
    );
    expect((await short.auth.request('me', undefined)).user.id).toBe('u1');
    expect(sleeps).toEqual([2000]);
    const long = setup(scriptedServer({ meStatus: () => 429, meHeader: { 'retry-after': '60' } }), {
      sleeps,
    });
    const error = (await long.auth
      .request('me', undefined)
      .catch((e: unknown) => e)) as ClientError;
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBe(60);
    expect(sleeps).toEqual([2000]);
  });

  it.each([
    ['network', 'request:fail net::ERR_CONNECTION_REFUSED'],
    ['timeout', 'request:fail timeout'],
  ])('turns a failed wx.request into a %s error', async (code, failure) => {
    const { auth } = setup(() => Promise.resolve({ fail: failure.replace('request:fail ', '') }));
    const error = (await auth.request('me', undefined).catch((e: unknown) => e)) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    expect(error.code).toBe(code);
  });

  it('checks the session_key before a legacy button only where the backend decrypts with it', async () => {
    const { wx, auth } = setup(scriptedServer());
    await auth.ensureLoggedIn();
    wx.checkSessionOk = false;
    await auth.prepareForEncryptedData();
    expect(wx.checkSessionCalls).toBe(1);
    expect(wx.loginCalls).toBe(2);
  });
});

describe('AuthService over a backend without sessions (the cloud functions)', () => {
  /** Cloud functions that answer login, and `unauthorized` for everything else when told to. */
  function cloudSetup(options: { refuse?: boolean } = {}) {
    const wx = new WxStandin(() => Promise.reject(new Error('no wx.request in cloud mode')));
    const calls: string[] = [];
    const cloud: WxCloudApi = {
      callFunction: ({ name }) => {
        calls.push(name);
        if (name === 'login')
          return Promise.resolve({
            result: {
              ok: true,
              isNewUser: false,
              user: { id: 'u1', createdAt: '2026-01-01T00:00:00.000Z' },
            },
          });
        return Promise.resolve({
          result: options.refuse
            ? { ok: false, error: { code: 'unauthorized', message: 'no caller' } }
            : { ok: true, user: { id: 'u1', createdAt: '2026-01-01T00:00:00.000Z' } },
        });
      },
      uploadFile: () => Promise.reject(new Error('not in this test')),
      CloudID: (cloudID) => ({ cloudID }),
    };
    return { wx, calls, auth: new AuthService(wx, new CloudTransport(cloud)) };
  }

  it('logs in once per launch, never asks wx.checkSession, and keeps no token', async () => {
    const { wx, calls, auth } = cloudSetup();
    await auth.ensureLoggedIn();
    await auth.ensureLoggedIn();
    await auth.request('userinfo', { nickname: '云' });
    await auth.prepareForEncryptedData();
    expect(wx.loginCalls).toBe(1);
    expect(wx.checkSessionCalls).toBe(0);
    expect(calls.filter((name) => name === 'login')).toHaveLength(1);
    expect(wx.getStorageSync(SESSION_STORAGE_KEY)).toBeFalsy();
    // Logout forgets the login here; there is no server session to end.
    await auth.logout();
    await auth.ensureLoggedIn();
    expect(calls.filter((name) => name === 'login')).toHaveLength(2);
  });

  it('surfaces unauthorized at once: there is no token a new login would replace', async () => {
    const { wx, calls, auth } = cloudSetup({ refuse: true });
    await expect(auth.request('userinfo', { nickname: '云' })).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect(wx.loginCalls).toBe(1);
    expect(calls.filter((name) => name !== 'login')).toHaveLength(1);
  });
});
