/**
 * The route table and the error mapping, in-process: fastify's inject() against buildServer with
 * the real core (embedded store in a temp dir) and the emulator on 127.0.0.1. The process-level
 * suites in test/ cover the same routes through the real binary; these run in milliseconds.
 */
import { type AuthDeps, WechatAuthError, createAuthDeps } from '@wxlogin/wechat-core';
import { SqliteStore } from '@wxlogin/wechat-core/sqlite';
import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { type RunningEmulator, startEmulator } from '@wxlogin/wechat-emulator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './app.js';
import { HTTP_STATUS, describeFailure } from './envelope.js';
import { DEFAULT_LIMITS } from './limits.js';
import { PublicUrl } from './public-url.js';
import { pageForFailure } from './web/error-pages.js';

const APP = { appid: 'wx00000000000inject', secret: 'inject-only-secret' } as const;

let emulator: RunningEmulator;
let dir: TempDir;
let store: SqliteStore;
let deps: AuthDeps;
let app: FastifyInstance;

beforeAll(async () => {
  emulator = await startEmulator({ apps: [APP] });
  dir = await tempDir('inject');
  store = await SqliteStore.open({ dataDir: dir.path, sweepIntervalMs: 0 });
  deps = createAuthDeps({
    apps: [APP],
    store,
    wechat: { apiOrigin: emulator.url, timeoutMs: 300 },
    contentSecurity: false,
  });
  const publicUrl = new PublicUrl(undefined);
  publicUrl.bound(3000);
  app = buildServer(deps, {
    logger: false,
    publicUrl,
    limits: { ...DEFAULT_LIMITS, loginPerMinute: 0, phonePerHour: 1 },
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  await emulator?.close();
  await dir?.remove();
});

const code = () => emulator.state.logins.mintLoginCode({ appid: APP.appid }).code;

async function login(): Promise<string> {
  const answer = await app.inject({ method: 'POST', url: '/login', payload: { code: code() } });
  expect(answer.statusCode).toBe(200);
  return answer.json<{ token: string }>().token;
}

function expectError(
  answer: { statusCode: number; json(): unknown },
  code: keyof typeof HTTP_STATUS,
) {
  expect(answer.statusCode).toBe(HTTP_STATUS[code]);
  expect((answer.json() as { error: { code: string } }).error.code).toBe(code);
}

describe('routes', () => {
  it('answers every authenticated route 401 without a token, and an unknown one 404', async () => {
    const routes = [
      ['GET', '/me'],
      ['POST', '/userinfo'],
      ['POST', '/phone'],
      ['POST', '/rewards/welcome'],
      ['POST', '/avatar'],
      ['GET', '/me/export'],
      ['GET', '/me/sessions'],
      ['DELETE', '/me/sessions/abc'],
      ['POST', '/me/sessions/end-others'],
      ['DELETE', '/me'],
      ['POST', '/me/deletion/cancel'],
      ['POST', '/me/consent'],
    ] as const;
    for (const [method, url] of routes) {
      const answer = await app.inject({ method, url });
      expect({ method, url, status: answer.statusCode }).toEqual({ method, url, status: 401 });
      expectError(answer, 'unauthorized');
    }
    const missing = await app.inject({ method: 'GET', url: '/nope?x=1' });
    expectError(missing, 'not_found');
    expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /nope' } });
  });

  it('logs in, reads /me with the token, never lets a JSON answer be cached, and logs out', async () => {
    const token = await login();
    const me = await app.inject({
      method: 'GET',
      url: '/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.headers['cache-control']).toBe('no-store');
    const out = await app.inject({
      method: 'POST',
      url: '/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(out.statusCode).toBe(204);
    const after = await app.inject({
      method: 'GET',
      url: '/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expectError(after, 'unauthorized');
  });

  it('/healthz answers ok', async () => {
    const answer = await app.inject({ method: 'GET', url: '/healthz' });
    expect(answer.statusCode).toBe(200);
  });
});

describe('error mapping', () => {
  it('a body that fails its schema is 400 bad_request naming the field', async () => {
    const answer = await app.inject({ method: 'POST', url: '/login', payload: { code: '' } });
    expectError(answer, 'bad_request');
    expect(answer.json<{ error: { message: string } }>().error.message).toMatch(/^code: /);
  });

  it("fastify's own 4xx (too large, wrong media type, broken JSON) are 400 bad_request", async () => {
    const bodies = [
      { payload: JSON.stringify({ code: 'x'.repeat(70 * 1024) }), type: 'application/json' },
      { payload: 'code=1', type: 'text/plain' },
      { payload: '{"code":', type: 'application/json' },
    ];
    for (const { payload, type } of bodies) {
      const answer = await app.inject({
        method: 'POST',
        url: '/login',
        payload,
        headers: { 'content-type': type },
      });
      expectError(answer, 'bad_request');
    }
  });

  it('WeChat refusing a code: invalid_code, code_used (400), risky_user (403)', async () => {
    expectError(
      await app.inject({ method: 'POST', url: '/login', payload: { code: 'unknown' } }),
      'invalid_code',
    );
    const used = code();
    await app.inject({ method: 'POST', url: '/login', payload: { code: used } });
    expectError(
      await app.inject({ method: 'POST', url: '/login', payload: { code: used } }),
      'code_used',
    );
    const risky = emulator.state.logins.mintLoginCode({ appid: APP.appid, risky: true }).code;
    expectError(
      await app.inject({ method: 'POST', url: '/login', payload: { code: risky } }),
      'risky_user',
    );
  });

  it('WeChat failing: system error and HTTP 500 are 502, no answer in time is 504', async () => {
    const path = '/sns/jscode2session';
    // The client retries a transient failure once: arm more than it will spend.
    emulator.state.faults.addFault(path, 'errcode', -1, 5);
    expectError(
      await app.inject({ method: 'POST', url: '/login', payload: { code: code() } }),
      'wechat_unavailable',
    );
    emulator.state.faults.clearFaults();
    emulator.state.faults.addFault(path, 'http_500', 0, 5);
    expectError(
      await app.inject({ method: 'POST', url: '/login', payload: { code: code() } }),
      'wechat_unavailable',
    );
    emulator.state.faults.clearFaults();
    emulator.state.faults.addFault(path, 'hang', 0, 5);
    expectError(
      await app.inject({ method: 'POST', url: '/login', payload: { code: code() } }),
      'wechat_timeout',
    );
    emulator.state.faults.clearFaults();
  });

  it('over a limit: 429 rate_limited with Retry-After', async () => {
    const token = await login();
    const headers = { authorization: `Bearer ${token}` };
    const first = await app.inject({
      method: 'POST',
      url: '/phone',
      headers,
      payload: { code: 'x' },
    });
    expect(first.statusCode).not.toBe(429);
    const second = await app.inject({
      method: 'POST',
      url: '/phone',
      headers,
      payload: { code: 'x' },
    });
    expectError(second, 'rate_limited');
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('describeFailure', () => {
  it('keeps a WechatAuthError code and message, hides an internal one behind the request id', () => {
    expect(describeFailure(new WechatAuthError('not_found', 'no such session'), 'r1')).toEqual({
      status: 404,
      code: 'not_found',
      message: 'no such session',
    });
    const internal = describeFailure(new WechatAuthError('internal', 'db password wrong'), 'r2');
    expect(internal).toMatchObject({
      status: 500,
      code: 'internal',
      message: 'internal error (request id r2)',
    });
    expect(internal.logged?.what).toBe('request failed');
  });

  it('logs every 5xx and no 4xx; rate_limited carries its Retry-After (60 s by default)', () => {
    expect(
      describeFailure(new WechatAuthError('wechat_timeout', 'slow'), 'r').logged,
    ).toBeDefined();
    expect(describeFailure(new WechatAuthError('bad_request', 'x'), 'r').logged).toBeUndefined();
    expect(
      describeFailure(new WechatAuthError('rate_limited', 'slow down'), 'r').retryAfterSeconds,
    ).toBe(60);
  });

  it("maps fastify's 4xx to bad_request and anything else to internal", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    expect(describeFailure(tooLarge, 'r')).toEqual({
      status: 400,
      code: 'bad_request',
      message: 'Request body is too large',
    });
    const crash = describeFailure(new TypeError('x is undefined'), 'r9');
    expect(crash).toMatchObject({
      status: 500,
      code: 'internal',
      message: 'internal error (request id r9)',
    });
    expect(crash.logged?.what).toBe('unexpected failure');
  });
});

describe('web login error pages', () => {
  it('take the status of the JSON table, and show anything without copy as internal', () => {
    expect(pageForFailure(new WechatAuthError('code_used', 'x'), 'r')).toMatchObject({
      status: 400,
      code: 'code_used',
    });
    expect(pageForFailure(new WechatAuthError('wechat_timeout', 'x'), 'r')).toMatchObject({
      status: 504,
    });
    expect(pageForFailure(new WechatAuthError('risky_user', 'x'), 'r7')).toMatchObject({
      status: 500,
      code: 'internal',
      detail: 'Something went wrong (request id r7).',
    });
  });
});
