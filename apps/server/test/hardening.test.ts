/**
 * Hardening of the mini-program API against hostile clients, over HTTP against the real server
 * process: sessions bound to their app and to an absolute lifetime, the nickname rule, no caching
 * of personal answers, and a phone code redeemable only for the user who tapped it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runServerToExit } from './support/processes.js';
import { APP, OTHER_APP, serverEnv, useStack } from './support/stack.js';

const stack = useStack({ env: { WECHAT_APPS: `${OTHER_APP.appid}:${OTHER_APP.secret}` } });

describe('sessions answer only for the app they were issued for', () => {
  it('a token of app A is unauthorized for app B, for an unknown app, and without the header for a non-default app', async () => {
    const a = await stack.login();
    const b = await stack.login(undefined, { appid: OTHER_APP.appid });
    const asApp = (token: string, appid?: string) =>
      stack.api('GET', '/me', {
        token,
        ...(appid ? { headers: { 'x-wechat-appid': appid } } : {}),
      });
    expect((await asApp(a.token)).status).toBe(200);
    expect((await asApp(a.token, APP.appid)).status).toBe(200);
    expect((await asApp(b.token, OTHER_APP.appid)).status).toBe(200);
    for (const [token, appid] of [
      [a.token, OTHER_APP.appid],
      [a.token, 'wx00000000000nobody'],
      [b.token, APP.appid],
      [b.token, undefined],
    ] as const) {
      const answer = await asApp(token, appid);
      expect(answer.status).toBe(401);
      expect(answer.body.error?.code).toBe('unauthorized');
    }
    // The same holds on the routes that spend upstream calls.
    const phone = await stack.api('POST', '/phone', {
      token: a.token,
      body: { code: 'x' },
      headers: { 'x-wechat-appid': OTHER_APP.appid },
    });
    expect(phone.status).toBe(401);
  });
});

describe('SESSION_MAX_DAYS', () => {
  it('ends a session at its absolute lifetime however often it is used', async () => {
    // A 2 s sliding lifetime inside a 4 s absolute one (in days).
    const { server } = await stack.extraServer({
      SESSION_TTL_DAYS: String(2 / 86_400),
      SESSION_MAX_DAYS: String(4 / 86_400),
    });
    const { token = '', expiresAt = '' } = (await stack.loginOn(server.url)).body;
    const issued = Date.now();
    expect(new Date(expiresAt).getTime() - issued).toBeLessThanOrEqual(2_100);
    const me = () => fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${token}` } });
    // Used every 400 ms, it slides past its 2 s sliding lifetime...
    while (Date.now() - issued < 3_000) {
      expect((await me()).status).toBe(200);
      await sleep(400);
    }
    // ...but not past the absolute one.
    await sleep(Math.max(0, issued + 4_200 - Date.now()));
    expect((await me()).status).toBe(401);
  }, 15_000);

  it('must be at least SESSION_TTL_DAYS', async () => {
    const result = await runServerToExit({
      ...serverEnv(stack.emulator.url, stack.dataDir),
      SESSION_TTL_DAYS: '30',
      SESSION_MAX_DAYS: '7',
      PORT: '0', // should it start after all, never on a port someone uses
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('SESSION_MAX_DAYS must be at least SESSION_TTL_DAYS');
  });
});

describe('nicknames', () => {
  it.each([
    ['NUL', 'a\u0000b'],
    ['ESC', 'a\u001b[31mred'],
    ['BEL', 'ding\u0007'],
    ['a line separator', 'a\u2028b'],
    ['an RTL override', 'abc\u202egnp.exe'],
    ['a bidi isolate', 'a\u2066b\u2069'],
    ['only zero-width characters', '\u200b\u200c\u200d\ufeff'],
    ['only a ZWJ', '\u200d'],
    ['only joiners', '\u200c\u200d'],
    ['a Braille blank', '\u2800\u2800'],
    ['tag characters outside a flag (hidden text)', 'Bob\u{e0041}\u{e0042}'],
    ['only a combining mark', '\u0301'],
    ['a Hangul filler', '\u3164'],
    ['a lone surrogate', 'a\ud800b'],
    ['65 characters', '字'.repeat(65)],
    ['65 emoji', '😀'.repeat(65)],
  ])('refuses %s with 400 bad_request and stores nothing', async (_what, nickname) => {
    const { token } = await stack.login();
    await stack.api('POST', '/userinfo', { token, body: { nickname: '原来的名字' } });
    const answer = await stack.api('POST', '/userinfo', { token, body: { nickname } });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('bad_request');
    expect(answer.body.error?.message).toMatch(/^nickname: /);
    const me = await stack.api('GET', '/me', { token });
    expect((me.body.user as { nickname: string }).nickname).toBe('原来的名字');
  });

  it.each([
    ['64 emoji (one character each, not two)', '😀'.repeat(64)],
    ['a family emoji (joined with ZWJ)', '👨‍👩‍👧‍👦 一家人'],
    ['a subdivision flag (tag characters)', '🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scot'],
    ['Persian with a ZWNJ', 'می‌خواهم'],
    ['Arabic (right to left by itself)', 'مرحبا'],
  ])('accepts %s', async (_what, nickname) => {
    const { token } = await stack.login();
    const answer = await stack.api('POST', '/userinfo', { token, body: { nickname } });
    expect(answer.status).toBe(200);
    expect((answer.body.user as { nickname: string }).nickname).toBe(nickname.normalize('NFC'));
  });

  it('stores the trimmed NFC form', async () => {
    const { token } = await stack.login();
    const answer = await stack.api('POST', '/userinfo', {
      token,
      body: { nickname: '  Cafe\u0301  ' },
    });
    expect((answer.body.user as { nickname: string }).nickname).toBe('Café');
  });
});

describe('Cache-Control', () => {
  it('is no-store on every JSON answer that carries a token or personal data', async () => {
    const { token, answer } = await stack.login();
    expect(answer.headers.get('cache-control')).toBe('no-store');
    for (const [method, path, body] of [
      ['GET', '/me', undefined],
      ['POST', '/userinfo', { nickname: '缓存' }],
      ['POST', '/rewards/welcome', undefined],
      ['GET', '/me', undefined],
    ] as const) {
      const reply = await stack.api(method, path, { token, ...(body ? { body } : {}) });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control'), `${method} ${path}`).toBe('no-store');
    }
    const refused = await stack.api('GET', '/me', { token: 'x.y' });
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });
});

describe('POST /phone', () => {
  it("sends the caller's openid, so a code another user tapped binds nothing", async () => {
    const alice = await stack.login();
    const mallory = await stack.login();
    const { codes } = await stack.emulator.control.mintPhoneCodes({
      appid: APP.appid,
      openid: alice.openid,
      purePhoneNumber: '13912345678',
    });
    const code = codes[0] as string;
    const stolen = await stack.api('POST', '/phone', { token: mallory.token, body: { code } });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error?.code).toBe('invalid_code');
    const me = await stack.api('GET', '/me', { token: mallory.token });
    expect(me.body.user).not.toHaveProperty('phone');
    // The code was not spent on the refusal: its owner still binds it.
    const own = await stack.api('POST', '/phone', { token: alice.token, body: { code } });
    expect(own.status).toBe(200);
    expect(own.body.user).toMatchObject({ phone: { purePhoneNumber: '13912345678' } });
    stack.watchForLeaks('13912345678');
  });
});
