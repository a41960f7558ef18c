/**
 * Limits on upstream spend, over HTTP against real server processes: each limit is checked by its
 * counter (the emulator's count of WeChat calls) and by Retry-After, never by wall-clock speed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../src/limits.js';
import { APP, OA_APP, useStack } from './support/stack.js';

const stack = useStack();

const CODE2SESSION = '/sns/jscode2session';
const PHONE = '/wxa/business/getuserphonenumber';

afterEach(async () => {
  await stack.emulator.control.clearFaults();
});

/** One more server with these settings, and a JSON caller for it. */
async function serverWith(env: Record<string, string>) {
  const { server } = await stack.extraServer(env);
  const call = async (
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (await response.json()) as { token?: string; error?: { code: string } },
    };
  };
  const login = async () => {
    const answer = await stack.loginOn(server.url);
    if (!answer.body.token) throw new Error(`login failed: ${JSON.stringify(answer.body)}`);
    return answer.body.token;
  };
  return { server, call, login };
}

describe('POST /login per client address', () => {
  it('spends at most LOGIN_LIMIT_PER_MINUTE code exchanges, then answers 429 with Retry-After', async () => {
    const { call } = await serverWith({ LOGIN_LIMIT_PER_MINUTE: '5' });
    const before = await stack.emulator.control.callCount(CODE2SESSION);
    const answers = [];
    for (let i = 0; i < 8; i += 1) {
      // Made-up codes, and a forged X-Forwarded-For that must not open a new budget.
      answers.push(
        await call('POST', '/login', {
          body: { code: `made-up-code-${i}` },
          headers: { 'x-forwarded-for': `203.0.113.${i}` },
        }),
      );
    }
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400, 429, 429, 429]);
    for (const refused of answers.slice(5)) {
      expect(refused.body.error?.code).toBe('rate_limited');
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    }
    expect((await stack.emulator.control.callCount(CODE2SESSION)) - before).toBe(5);
  });

  it('counts per forwarded address only behind a TRUST_PROXY', async () => {
    const { call } = await serverWith({ LOGIN_LIMIT_PER_MINUTE: '2', TRUST_PROXY: '127.0.0.1' });
    const from = (ip: string) =>
      call('POST', '/login', { body: { code: 'made-up' }, headers: { 'x-forwarded-for': ip } });
    expect((await from('198.51.100.1')).status).toBe(400);
    expect((await from('198.51.100.1')).status).toBe(400);
    expect((await from('198.51.100.1')).status).toBe(429);
    // Another client behind the same proxy has its own budget.
    expect((await from('198.51.100.2')).status).toBe(400);
  });

  it('runs at most LOGIN_CONCURRENCY exchanges at once and refuses beyond LOGIN_QUEUE', async () => {
    const { call } = await serverWith({ LOGIN_CONCURRENCY: '2', LOGIN_QUEUE: '2' });
    await stack.emulator.control.injectFault({ path: CODE2SESSION, kind: 'hang', times: 'always' });
    const before = await stack.emulator.control.callCount(CODE2SESSION);
    const { codes } = await stack.emulator.control.mintLoginCodes({ appid: APP.appid, count: 10 });
    const answers = await Promise.all(
      codes.map((code) => call('POST', '/login', { body: { code } })),
    );
    const statuses = answers.map((a) => a.status).sort();
    // 2 running and 2 queued reach WeChat (and time out); the other 6 never do.
    expect(statuses).toEqual([429, 429, 429, 429, 429, 429, 504, 504, 504, 504]);
    for (const refused of answers.filter((a) => a.status === 429))
      expect(refused.retryAfter).toBe('1');
    expect((await stack.emulator.control.callCount(CODE2SESSION)) - before).toBe(4);
  });
});

describe('a queued login whose client left', () => {
  it('is never run: its code is not spent', async () => {
    const { server, call } = await serverWith({ LOGIN_CONCURRENCY: '1', LOGIN_QUEUE: '5' });
    await stack.emulator.control.injectFault({ path: CODE2SESSION, kind: 'hang', times: 'always' });
    const before = await stack.emulator.control.callCount(CODE2SESSION);
    const { codes } = await stack.emulator.control.mintLoginCodes({ appid: APP.appid, count: 4 });
    const first = call('POST', '/login', { body: { code: codes[0] } });
    await sleep(200);
    // Three more queue behind it, and their clients give up after 200 ms.
    const leavers = codes.slice(1).map((code) =>
      fetch(`${server.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
        signal: AbortSignal.timeout(200),
      }).catch(() => 'left'),
    );
    expect(await Promise.all(leavers)).toEqual(['left', 'left', 'left']);
    expect((await first).status).toBe(504);
    await sleep(300);
    expect((await stack.emulator.control.callCount(CODE2SESSION)) - before).toBe(1);
  });
});

describe('GET /oauth/wechat/callback', () => {
  it('shares the per-address login limit: it spends a code exchange too', async () => {
    const { server } = await stack.extraServer({
      LOGIN_LIMIT_PER_MINUTE: '2',
      WECHAT_OA_APPID: OA_APP.appid,
      WECHAT_OA_SECRET: OA_APP.secret,
    });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await fetch(`${server.url}/oauth/wechat/callback?code=made-up&state=x`, {
        redirect: 'manual',
      });
      statuses.push([answer.status, answer.headers.get('retry-after')]);
    }
    // Refused by the state check (400 page), then by the limit.
    expect(statuses.map(([status]) => status)).toEqual([400, 400, 429]);
    expect(statuses[2]?.[1]).toMatch(/^\d+$/);
  });
});

describe('ConcurrencyGate', () => {
  it('refuses a waiter whose wait ran out, and one whose client left, without running them', async () => {
    const gate = new ConcurrencyGate(1, 2, 50);
    let release = () => undefined as void;
    const held = gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    const ran: string[] = [];
    const late = gate.run(() => Promise.resolve(void ran.push('late')));
    await expect(late).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: 1 });
    const gone = gate.run(
      () => Promise.resolve(void ran.push('gone')),
      () => true,
    );
    const next = gate.run(() => Promise.resolve(void ran.push('next')));
    release();
    await held;
    await expect(gone).rejects.toMatchObject({ code: 'rate_limited' });
    await next;
    expect(ran).toEqual(['next']);
  });
});

describe('per-user limits', () => {
  it('POST /phone: at most PHONE_LIMIT_PER_HOUR billed exchanges per user', async () => {
    const { call, login } = await serverWith({ PHONE_LIMIT_PER_HOUR: '2' });
    const [alice, bob] = [await login(), await login()];
    const before = await stack.emulator.control.callCount(PHONE);
    const { codes } = await stack.emulator.control.mintPhoneCodes({ appid: APP.appid, count: 4 });
    const statuses = [];
    for (const code of codes.slice(0, 3))
      statuses.push(await call('POST', '/phone', { token: alice, body: { code } }));
    expect(statuses.map((a) => a.status)).toEqual([200, 200, 429]);
    const retryAfter = Number(statuses[2]?.retryAfter);
    expect(retryAfter).toBeGreaterThan(3_000);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
    expect((await stack.emulator.control.callCount(PHONE)) - before).toBe(2);
    // Another user has their own budget.
    expect((await call('POST', '/phone', { token: bob, body: { code: codes[3] } })).status).toBe(
      200,
    );
  });

  it('POST /userinfo and POST /avatar: refused past their hourly budget', async () => {
    const { server, call, login } = await serverWith({
      USERINFO_LIMIT_PER_HOUR: '1',
      AVATAR_LIMIT_PER_HOUR: '1',
    });
    const token = await login();
    expect((await call('POST', '/userinfo', { token, body: { nickname: '一' } })).status).toBe(200);
    const second = await call('POST', '/userinfo', { token, body: { nickname: '二' } });
    expect(second.status).toBe(429);
    expect(second.body.error?.code).toBe('rate_limited');
    const upload = () =>
      stack.uploadAvatar(token, [{ bytes: new Uint8Array(10), type: 'image/png' }], server.url);
    expect((await upload()).status).toBe(400); // counted, then refused as no image
    const refused = await upload();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('the account operations under /me: each refused past ACCOUNT_LIMIT_PER_HOUR per user', async () => {
    const { call, login } = await serverWith({ ACCOUNT_LIMIT_PER_HOUR: '2' });
    const token = await login();
    for (let i = 0; i < 2; i += 1)
      expect((await call('GET', '/me/export', { token })).status).toBe(200);
    const refused = await call('GET', '/me/export', { token });
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    // Another user has a budget of their own; the device list is not limited.
    const other = await login();
    expect((await call('GET', '/me/export', { token: other })).status).toBe(200);
    for (let i = 0; i < 3; i += 1)
      expect((await call('GET', '/me/sessions', { token })).status).toBe(200);
    const consent = { kind: 'privacy', version: 'v1', agreedAt: new Date().toISOString() };
    for (let i = 0; i < 2; i += 1)
      expect((await call('POST', '/me/consent', { token, body: consent })).status).toBe(200);
    expect((await call('POST', '/me/consent', { token, body: consent })).status).toBe(429);
    for (let i = 0; i < 2; i += 1)
      expect((await call('POST', '/me/sessions/end-others', { token })).status).toBe(200);
    expect((await call('POST', '/me/sessions/end-others', { token })).status).toBe(429);
  });

  it('an unauthenticated call to a limited route is 401, not a spend of anyone’s budget', async () => {
    const { call } = await serverWith({ PHONE_LIMIT_PER_HOUR: '1' });
    for (let i = 0; i < 3; i += 1) {
      const answer = await call('POST', '/phone', { token: 'x.y', body: { code: 'c' } });
      expect(answer.status).toBe(401);
    }
  });
});
