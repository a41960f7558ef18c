import { SQLITE_FILE } from '@wxlogin/wechat-core/sqlite';
import Database from 'libsql';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../src/envelope.js';
import { storeCounts } from './support/processes.js';
import { APP, OTHER_APP, useStack } from './support/stack.js';

const stack = useStack();
const JSCODE = '/sns/jscode2session';

/** Asserts the error envelope with the status DESIGN.md gives the code. */
function expectError(
  answer: { status: number; body: { error?: { code: string; message: string } } },
  code: keyof typeof HTTP_STATUS,
) {
  expect(answer.body.error?.code).toBe(code);
  expect(answer.status).toBe(HTTP_STATUS[code]);
  expect(typeof answer.body.error?.message).toBe('string');
}

describe('POST /login', () => {
  it('answers { token, expiresAt, isNewUser, user } and never openid or session_key', async () => {
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
    const answer = await stack.api('POST', '/login', { body: { code: minted.code } });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(['expiresAt', 'isNewUser', 'token', 'user']);
    expect(answer.body.isNewUser).toBe(true);
    const text = JSON.stringify(answer.body);
    expect(text).not.toContain(minted.openid);
    expect(text).not.toContain(minted.sessionKey);
    expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers code_used for a code already exchanged, issuing no session', async () => {
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
    await stack.api('POST', '/login', { body: { code: minted.code } });
    const before = await storeCounts(stack.dataDir);
    expectError(await stack.api('POST', '/login', { body: { code: minted.code } }), 'code_used');
    expect(await storeCounts(stack.dataDir)).toEqual(before);
  });

  it.each([
    [
      'a foreign code',
      () => stack.emulator.control.mintLoginCode({ appid: OTHER_APP.appid }).then((m) => m.code),
    ],
    ['an unknown code', () => Promise.resolve('0123456789abcdef')],
  ])('answers invalid_code for %s, writing nothing', async (_name, makeCode) => {
    const before = await storeCounts(stack.dataDir);
    expectError(
      await stack.api('POST', '/login', { body: { code: await makeCode() } }),
      'invalid_code',
    );
    expect(await storeCounts(stack.dataDir)).toEqual(before);
  });

  it('answers risky_user (403) when WeChat blocks the login', async () => {
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid, risky: true });
    expectError(await stack.api('POST', '/login', { body: { code: minted.code } }), 'risky_user');
  });

  it('answers rate_limited (429) with Retry-After on WeChat 45011', async () => {
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
    await stack.emulator.control.injectFault({ path: JSCODE, kind: 'errcode', errcode: 45011 });
    const answer = await stack.api('POST', '/login', { body: { code: minted.code } });
    expectError(answer, 'rate_limited');
    expect(answer.headers.get('retry-after')).toBe('60');
  });

  it('succeeds when WeChat answers -1 twice first', async () => {
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
    await stack.emulator.control.injectFault({
      path: JSCODE,
      kind: 'errcode',
      errcode: -1,
      times: 2,
    });
    expect((await stack.api('POST', '/login', { body: { code: minted.code } })).status).toBe(200);
  });

  it.each([
    ['-1 on every attempt', { kind: 'errcode', errcode: -1, times: 'always' }],
    ['an HTTP 500', { kind: 'http_500' }],
    ['a non-JSON answer', { kind: 'non_json' }],
  ] as const)('answers wechat_unavailable (502) for %s, writing nothing', async (_name, fault) => {
    const { control } = stack.emulator;
    const minted = await control.mintLoginCode({ appid: APP.appid });
    await control.injectFault({ path: JSCODE, ...fault });
    const before = await storeCounts(stack.dataDir);
    try {
      expectError(
        await stack.api('POST', '/login', { body: { code: minted.code } }),
        'wechat_unavailable',
      );
      expect(await storeCounts(stack.dataDir)).toEqual(before);
    } finally {
      await control.clearFaults();
    }
  });

  it('answers wechat_timeout (504) within the configured timeout when WeChat never answers', async () => {
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
    await stack.emulator.control.injectFault({ path: JSCODE, kind: 'hang' });
    const started = Date.now();
    const before = await storeCounts(stack.dataDir);
    expectError(
      await stack.api('POST', '/login', { body: { code: minted.code } }),
      'wechat_timeout',
    );
    expect(Date.now() - started).toBeLessThan(3000); // WECHAT_TIMEOUT_MS is 1500 in these tests
    expect(await storeCounts(stack.dataDir)).toEqual(before);
  });

  it('answers internal (500) with a request id, and logs it, when WeChat rejects our secret', async () => {
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
    await stack.emulator.control.injectFault({ path: JSCODE, kind: 'errcode', errcode: 40125 });
    const answer = await stack.api('POST', '/login', { body: { code: minted.code } });
    expectError(answer, 'internal');
    const requestId = answer.headers.get('x-request-id') ?? 'missing';
    expect(answer.body.error?.message).toContain(requestId);
    expect(await stack.server.waitForOutput(requestId)).toContain(requestId);
  });

  it('gives 100 concurrent logins of one user (distinct codes) one user id', async () => {
    const minted = await stack.emulator.control.mintLoginCodes({ appid: APP.appid, count: 100 });
    const answers = await Promise.all(
      minted.codes.map((code) => stack.api('POST', '/login', { body: { code } })),
    );
    expect(answers.map((a) => a.status)).toEqual(new Array(100).fill(200));
    const ids = new Set(answers.map((a) => (a.body.user as { id: string }).id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.body.isNewUser === true)).toHaveLength(1);
  });
});

describe('bad requests', () => {
  it.each([
    ['a body that is not JSON', { raw: '{"code":' }],
    ['a body over 64 KiB', { raw: JSON.stringify({ code: 'x'.repeat(70_000) }) }],
    ['a code of the wrong type', { body: { code: 42 } }],
    ['no body', {}],
    ['a text/plain body', { raw: 'code=abc', contentType: 'text/plain' }],
    ['a form body', { raw: 'code=abc', contentType: 'application/x-www-form-urlencoded' }],
    ['a __proto__ key', { raw: '{"code":"abc","__proto__":{"isAdmin":true}}' }],
  ])('answers bad_request (400) for %s', async (_name, options) => {
    expectError(await stack.api('POST', '/login', options), 'bad_request');
  });

  it('answers not_found (404) for an unknown route or method', async () => {
    expectError(await stack.api('GET', '/admin'), 'not_found');
    expectError(await stack.api('PUT', '/me'), 'not_found');
  });
});

describe('sessions over HTTP', () => {
  it('serves GET /me for a valid token and unauthorized (401) after logout', async () => {
    const { token, userId } = await stack.login();
    const me = await stack.api('GET', '/me', { token });
    expect(me.status).toBe(200);
    expect((me.body.user as { id: string }).id).toBe(userId);
    // wx.request sends content-type application/json with an empty body: that must work.
    const out = await stack.api('POST', '/logout', { token, raw: '' });
    expect(out.status).toBe(204);
    expectError(await stack.api('GET', '/me', { token }), 'unauthorized');
    expectError(await stack.api('POST', '/logout', { token }), 'unauthorized');
  });

  it.each([
    ['no Authorization header', () => undefined],
    ['a flipped character', (t: string) => `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`],
    ['a token cut short', (t: string) => t.slice(0, 30)],
    ['the id alone', (t: string) => t.split('.')[0] ?? ''],
  ])('answers unauthorized (401) for %s', async (_name, mutate) => {
    const { token } = await stack.login();
    const bad = mutate(token);
    expectError(
      await stack.api('GET', '/me', bad === undefined ? {} : { token: bad }),
      'unauthorized',
    );
  });

  it('answers unauthorized (401) for an expired token', async () => {
    const { server } = await stack.extraServer({ SESSION_TTL_DAYS: '0.00001' }); // under a second
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
    const login = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: minted.code }),
    });
    const { token } = (await login.json()) as { token: string };
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(401);
    expect(((await me.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
});

describe('POST /userinfo', () => {
  it('saves the nickname the current way (the avatar path is in avatar.test.ts)', async () => {
    const { token } = await stack.login();
    const answer = await stack.api('POST', '/userinfo', { token, body: { nickname: '测试用户' } });
    expect(answer.status).toBe(200);
    expect(answer.body.user).toMatchObject({ nickname: '测试用户' });
  });

  it.each([
    ['an outside link', 'https://example.com/a.png'],
    ["DevTools' temporary file URL", 'http://tmp/wxa1b2c3.png'],
    ['an avatar path this server does not store', '/avatars/NoSuchAvatarNoSuchAvat'],
  ])('refuses %s as the avatar (only URLs POST /avatar answered)', async (_what, avatarUrl) => {
    const { token } = await stack.login();
    const url = avatarUrl.startsWith('/') ? `${stack.server.url}${avatarUrl}` : avatarUrl;
    const answer = await stack.api('POST', '/userinfo', { token, body: { avatarUrl: url } });
    expectError(answer, 'bad_request');
    expect(answer.body.error?.message).toMatch(/POST \/avatar/);
  });

  it('refuses a cloud:// file ID: the self-hosted server keeps its own avatars (POST /avatar)', async () => {
    const { token } = await stack.login();
    const answer = await stack.api('POST', '/userinfo', {
      token,
      body: { avatarUrl: 'cloud://prod-1a2b.7465-prod-1a2b-1250000000/avatars/a.png' },
    });
    expectError(answer, 'bad_request');
    expect(answer.body.error?.message).toMatch(/cloud functions/);
  });

  it('decrypts the legacy payload, and answers session_key_stale (409) after the client logged in again', async () => {
    const { token, openid } = await stack.login();
    const payload = await stack.emulator.control.encryptedUserInfo({
      appid: APP.appid,
      openid,
      nickName: '老用户',
    });
    const ok = await stack.api('POST', '/userinfo', { token, body: payload });
    expect(ok.status).toBe(200);
    expect((ok.body.user as { nickname: string }).nickname).toBe('老用户');
    await stack.emulator.control.mintLoginCode({ appid: APP.appid, openid }); // wx.login rotates the key
    const stale = await stack.emulator.control.encryptedUserInfo({ appid: APP.appid, openid });
    expectError(await stack.api('POST', '/userinfo', { token, body: stale }), 'session_key_stale');
  });

  it("never overwrites the profile with today's anonymous legacy data (微信用户, grey avatar)", async () => {
    const { token, openid } = await stack.login();
    await stack.api('POST', '/userinfo', { token, body: { nickname: '自己起的名字' } });
    // The emulator answers as today's platform does by default: nickname 微信用户, grey avatar.
    const payload = await stack.emulator.control.encryptedUserInfo({ appid: APP.appid, openid });
    const answer = await stack.api('POST', '/userinfo', { token, body: payload });
    expect(answer.status).toBe(200);
    expect(answer.body.user).toMatchObject({ nickname: '自己起的名字' });
    expect((answer.body.user as { avatarUrl?: string }).avatarUrl).toBeUndefined();
  });

  it('answers invalid_encrypted_data (400) for a payload watermarked with another appid', async () => {
    const { token, openid } = await stack.login();
    const payload = await stack.emulator.control.encryptedUserInfo({
      appid: APP.appid,
      openid,
      watermarkAppid: OTHER_APP.appid,
    });
    expectError(
      await stack.api('POST', '/userinfo', { token, body: payload }),
      'invalid_encrypted_data',
    );
  });

  it('answers unauthorized (401) without a token', async () => {
    expectError(await stack.api('POST', '/userinfo', { body: { nickname: 'x' } }), 'unauthorized');
  });
});

describe('POST /phone', () => {
  it('binds the phone from a button code; a reused code is invalid_code', async () => {
    const { token } = await stack.login();
    const { codes } = await stack.emulator.control.mintPhoneCodes({
      appid: APP.appid,
      purePhoneNumber: '13600001111',
    });
    const answer = await stack.api('POST', '/phone', { token, body: { code: codes[0] } });
    expect(answer.status).toBe(200);
    expect(answer.body.user).toMatchObject({
      phone: { purePhoneNumber: '13600001111', countryCode: '86' },
    });
    expectError(
      await stack.api('POST', '/phone', { token, body: { code: codes[0] } }),
      'invalid_code',
    );
  });

  it('binds the phone from the legacy encrypted payload', async () => {
    const { token, openid } = await stack.login();
    const payload = await stack.emulator.control.encryptedPhone({
      appid: APP.appid,
      openid,
      purePhoneNumber: '13500002222',
    });
    const answer = await stack.api('POST', '/phone', { token, body: payload });
    expect(answer.status).toBe(200);
    expect(answer.body.user).toMatchObject({ phone: { purePhoneNumber: '13500002222' } });
  });
});

describe('GET /healthz', () => {
  it('says the store is embedded', async () => {
    const answer = await stack.api('GET', '/healthz');
    expect(answer).toMatchObject({ status: 200, body: { ok: true, store: 'embedded' } });
  });
});

describe('store outage', () => {
  it('answers store_unavailable (503) and issues no token when the database cannot be written', async () => {
    const { server, dataDir } = await stack.extraServer({ SQLITE_BUSY_TIMEOUT_MS: '100' });
    const call = async () => {
      const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
      return fetch(`${server.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: minted.code }),
      });
    };
    expect((await call()).status).toBe(200);
    // Another process holds the write lock past the busy timeout.
    const holder = new Database(join(dataDir, SQLITE_FILE));
    holder.exec('BEGIN IMMEDIATE');
    try {
      const answer = await call();
      expect(answer.status).toBe(503);
      const body = (await answer.json()) as { token?: string; error: { code: string } };
      expect(body.error.code).toBe('store_unavailable');
      expect(body.token).toBeUndefined();
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });
});

describe('logs', () => {
  it('never contain the app secret, a session token, a session key, a phone number or a payload', async () => {
    const { token, openid } = await stack.login();
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid, openid });
    await stack.api('POST', '/login', { body: { code: minted.code } });
    const { codes } = await stack.emulator.control.mintPhoneCodes({
      appid: APP.appid,
      purePhoneNumber: '13755550199',
    });
    expect((await stack.api('POST', '/phone', { token, body: { code: codes[0] } })).status).toBe(
      200,
    );
    const payload = await stack.emulator.control.encryptedUserInfo({ appid: APP.appid, openid });
    await stack.api('POST', '/userinfo', { token, body: payload });
    const last = await stack.api('GET', '/me', { token });
    // Every line up to the last request's own "request completed" is in.
    const lastId = last.headers.get('x-request-id') ?? 'missing';
    const completed = new RegExp(`"reqId":"${lastId}"[^\\n]*request completed`);
    const output = await stack.server.waitForOutput(completed);
    expect(output).toMatch(completed);
    const secrets = [
      APP.secret,
      token,
      token.split('.')[1] ?? token,
      minted.sessionKey,
      '13755550199',
      payload.encryptedData,
      payload.iv,
    ];
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});
