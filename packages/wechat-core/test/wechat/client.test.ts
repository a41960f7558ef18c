import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WechatAuthError } from '../../src/errors.js';
import { APP, OTHER_APP, clientFor, useEmulator } from '../support/emulator.js';

const emulator = useEmulator();

async function failure(promise: Promise<unknown>): Promise<WechatAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WechatAuthError) return error;
    throw error;
  }
  throw new Error('expected a WechatAuthError, got success');
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

describe('WechatClient.exchangeLoginCode', () => {
  it('returns openid, session_key and unionid for a fresh code', async () => {
    const { control } = emulator.current;
    const minted = await control.mintLoginCode({ appid: APP.appid, unionid: 'union-client-1' });
    const session = await clientFor(emulator.current).exchangeLoginCode(APP, minted.code);
    expect(session).toEqual({
      openid: minted.openid,
      sessionKey: minted.sessionKey,
      unionid: 'union-client-1',
    });
  });

  it('returns code_used when the code was already exchanged', async () => {
    const { control } = emulator.current;
    const { code } = await control.mintLoginCode({ appid: APP.appid });
    const client = clientFor(emulator.current);
    await client.exchangeLoginCode(APP, code);
    const error = await failure(client.exchangeLoginCode(APP, code));
    expect(error.code).toBe('code_used');
    expect(error.wechatErrcode).toBe(40163);
  });

  it.each([
    ['an unknown code', () => Promise.resolve('not-a-real-code')],
    [
      'a code of another app',
      async () => (await emulator.current.control.mintLoginCode({ appid: OTHER_APP.appid })).code,
    ],
  ])('returns invalid_code for %s', async (_name, makeCode) => {
    const error = await failure(
      clientFor(emulator.current).exchangeLoginCode(APP, await makeCode()),
    );
    expect(error.code).toBe('invalid_code');
  });

  it('returns invalid_code for a code older than 5 minutes', async () => {
    const { control } = emulator.current;
    const { code } = await control.mintLoginCode({ appid: APP.appid });
    await control.advanceClock(301);
    const error = await failure(clientFor(emulator.current).exchangeLoginCode(APP, code));
    expect(error.code).toBe('invalid_code');
  });

  it('returns risky_user when WeChat blocks the login (40226)', async () => {
    const { code } = await emulator.current.control.mintLoginCode({
      appid: APP.appid,
      risky: true,
    });
    const error = await failure(clientFor(emulator.current).exchangeLoginCode(APP, code));
    expect(error.code).toBe('risky_user');
  });

  it('returns rate_limited with a retry delay past 100 exchanges a minute for one user', async () => {
    const { control } = emulator.current;
    const minted = await control.mintLoginCodes({ appid: APP.appid, count: 101 });
    const client = clientFor(emulator.current);
    for (const code of minted.codes.slice(0, 100)) await client.exchangeLoginCode(APP, code);
    const error = await failure(client.exchangeLoginCode(APP, minted.codes[100] as string));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBe(60);
  });

  it('reports a wrong secret as internal without revealing it', async () => {
    const { code } = await emulator.current.control.mintLoginCode({ appid: APP.appid });
    const error = await failure(
      clientFor(emulator.current).exchangeLoginCode(
        { appid: APP.appid, secret: 'wrong-secret-value' },
        code,
      ),
    );
    expect(error.code).toBe('internal');
    expect(error.wechatErrcode).toBe(40125);
    expect(error.message).not.toContain('wrong-secret-value');
  });

  it('succeeds when WeChat answers -1 twice and then works (bounded retry)', async () => {
    const { control } = emulator.current;
    const { code, openid } = await control.mintLoginCode({ appid: APP.appid });
    const before = await control.callCount('/sns/jscode2session');
    await control.injectFault({
      path: '/sns/jscode2session',
      kind: 'errcode',
      errcode: -1,
      times: 2,
    });
    const session = await clientFor(emulator.current).exchangeLoginCode(APP, code);
    expect(session.openid).toBe(openid);
    expect((await control.callCount('/sns/jscode2session')) - before).toBe(3);
  });

  it('returns wechat_unavailable after 1 + 2 attempts when WeChat keeps answering -1', async () => {
    const { control } = emulator.current;
    const { code } = await control.mintLoginCode({ appid: APP.appid });
    const before = await control.callCount('/sns/jscode2session');
    await control.injectFault({
      path: '/sns/jscode2session',
      kind: 'errcode',
      errcode: -1,
      times: 'always',
    });
    try {
      const error = await failure(clientFor(emulator.current).exchangeLoginCode(APP, code));
      expect(error.code).toBe('wechat_unavailable');
      expect((await control.callCount('/sns/jscode2session')) - before).toBe(3);
    } finally {
      await control.clearFaults();
    }
  });

  it.each([
    ['an HTTP 500', 'http_500'],
    ['a non-JSON body', 'non_json'],
  ] as const)(
    'returns wechat_unavailable for %s and does not spend the code again',
    async (_name, kind) => {
      const { control } = emulator.current;
      const { code } = await control.mintLoginCode({ appid: APP.appid });
      const before = await control.callCount('/sns/jscode2session');
      await control.injectFault({ path: '/sns/jscode2session', kind });
      const error = await failure(clientFor(emulator.current).exchangeLoginCode(APP, code));
      expect(error.code).toBe('wechat_unavailable');
      expect((await control.callCount('/sns/jscode2session')) - before).toBe(1);
    },
  );

  it('returns wechat_timeout within the configured timeout when WeChat never answers', async () => {
    const { control } = emulator.current;
    const { code } = await control.mintLoginCode({ appid: APP.appid });
    await control.injectFault({ path: '/sns/jscode2session', kind: 'hang' });
    const started = Date.now();
    const error = await failure(
      clientFor(emulator.current, { timeoutMs: 300 }).exchangeLoginCode(APP, code),
    );
    expect(error.code).toBe('wechat_timeout');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('returns wechat_unavailable when WeChat cannot be reached, with no secret or code in the message', async () => {
    const port = await closedPort();
    const client = clientFor(emulator.current, {
      apiOrigin: `http://127.0.0.1:${port}`,
      timeoutMs: 2000,
    });
    const error = await failure(client.exchangeLoginCode(APP, 'the-login-code'));
    expect(error.code).toBe('wechat_unavailable');
    expect(error.message).toContain('ECONNREFUSED');
    for (const secret of [APP.secret, APP.appid, 'the-login-code'])
      expect(error.message).not.toContain(secret);
  });
});

describe('WechatClient.fetchStableToken', () => {
  it('returns the same token in normal mode and a new one when forced', async () => {
    const client = clientFor(emulator.current);
    const first = await client.fetchStableToken(OTHER_APP);
    const second = await client.fetchStableToken(OTHER_APP);
    expect(second.accessToken).toBe(first.accessToken);
    expect(first.expiresInSeconds).toBeGreaterThan(7000);
    const forced = await client.fetchStableToken(OTHER_APP, true);
    expect(forced.accessToken).not.toBe(first.accessToken);
  });
});

describe('WechatClient.getPhoneNumber', () => {
  it('exchanges a phone code once, then answers invalid_code', async () => {
    const { control } = emulator.current;
    const client = clientFor(emulator.current);
    const { accessToken } = await client.fetchStableToken(APP);
    const { codes } = await control.mintPhoneCodes({
      appid: APP.appid,
      purePhoneNumber: '13912345678',
    });
    const info = await client.getPhoneNumber(accessToken, codes[0] as string);
    expect(info).toMatchObject({
      purePhoneNumber: '13912345678',
      countryCode: '86',
      watermark: { appid: APP.appid },
    });
    const error = await failure(client.getPhoneNumber(accessToken, codes[0] as string));
    expect(error.code).toBe('invalid_code');
  });

  it("refuses a code for another user's openid (40003) without spending it", async () => {
    const { control } = emulator.current;
    const client = clientFor(emulator.current);
    const { accessToken } = await client.fetchStableToken(APP);
    const { codes } = await control.mintPhoneCodes({ appid: APP.appid, openid: 'oTapperOpenid' });
    const code = codes[0] as string;
    const error = await failure(client.getPhoneNumber(accessToken, code, 'oSomeoneElse'));
    expect(error).toMatchObject({ code: 'invalid_code', wechatErrcode: 40003 });
    expect((await client.getPhoneNumber(accessToken, code, 'oTapperOpenid')).purePhoneNumber).toBe(
      '13800138000',
    );
  });

  it('reports a rejected access token with its errcode 40001', async () => {
    const error = await failure(clientFor(emulator.current).getPhoneNumber('not-a-token', 'x'));
    expect(error.wechatErrcode).toBe(40001);
    expect(error.message).not.toContain('not-a-token');
  });
});

describe('WechatClient session keys', () => {
  it('checks, rotates and resets a session_key with the HMAC-SHA256 signature', async () => {
    const { control } = emulator.current;
    const client = clientFor(emulator.current);
    const { accessToken } = await client.fetchStableToken(APP);
    const first = await control.mintLoginCode({ appid: APP.appid });
    expect(await client.checkSessionKey(accessToken, first.openid, first.sessionKey)).toBe(true);
    // A new wx.login rotates the key: the old one no longer checks out.
    const second = await control.mintLoginCode({ appid: APP.appid, openid: first.openid });
    expect(await client.checkSessionKey(accessToken, first.openid, first.sessionKey)).toBe(false);
    const reset = await client.resetSessionKey(accessToken, first.openid, second.sessionKey);
    expect(reset).not.toBe(second.sessionKey);
    expect(await client.checkSessionKey(accessToken, first.openid, reset)).toBe(true);
  });
});
