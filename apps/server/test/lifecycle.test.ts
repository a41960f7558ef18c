import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { join } from 'node:path';
import { type EmulatorProcess, startEmulatorProcess } from '@wxlogin/wechat-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerToExit, startServerProcess } from './support/processes.js';
import { APP, serverEnv } from './support/stack.js';

let emulator: EmulatorProcess | undefined;

async function post(
  url: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
let dataDir = '';
let work: TempDir | undefined;
beforeAll(async () => {
  emulator = await startEmulatorProcess({ apps: [APP] });
  work = await tempDir('lifecycle');
  dataDir = work.path;
});
afterAll(async () => {
  await emulator?.stop();
  await work?.remove();
});

describe('wxlogin-server process', () => {
  it('refuses to start with one line naming a missing setting', async () => {
    const { code, output } = await runServerToExit({ WECHAT_SECRET: 'x' });
    expect(code).toBe(1);
    expect(output.trim()).toBe('wxlogin-server: config: WECHAT_APPID is required');
  });

  it('lets several processes share one DATA_DIR: sessions, users and one token lease', async () => {
    const control = emulator?.control;
    if (!control) throw new Error('no emulator');
    const env = serverEnv(emulator?.url ?? '', join(dataDir, 'shared'));
    const [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    try {
      const minted = await control.mintLoginCode({ appid: APP.appid });
      const login = await post(a.url, '/login', { code: minted.code });
      expect(login.status).toBe(200);
      const token = login.body.token as string;
      // A session issued by one process is good on the other.
      const me = await fetch(`${b.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      // 20 phone bindings split over both processes need one access token between them: the
      // lease in the shared file lets one process fetch it while the other waits.
      const tokenFetches = await control.callCount('/cgi-bin/stable_token');
      const { codes } = await control.mintPhoneCodes({
        appid: APP.appid,
        purePhoneNumber: '13700000000',
        count: 20,
      });
      const phones = await Promise.all(
        codes.map((code, i) => post(i % 2 ? a.url : b.url, '/phone', { code }, token)),
      );
      expect(phones.map((p) => p.status)).toEqual(codes.map(() => 200));
      expect((await control.callCount('/cgi-bin/stable_token')) - tokenFetches).toBe(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('keeps every login that answered 200 through kill -9, and starts again at once', async () => {
    const control = emulator?.control;
    if (!control) throw new Error('no emulator');
    const env = serverEnv(emulator?.url ?? '', join(dataDir, 'killed'));
    const server = await startServerProcess(env);
    const codes = await Promise.all(
      Array.from({ length: 50 }, () => control.mintLoginCode({ appid: APP.appid })),
    );
    const answers = await Promise.all(
      codes.map((m) => post(server.url, '/login', { code: m.code })),
    );
    // Killed the moment the last answer arrived: no graceful close, no checkpoint.
    expect(await server.stop('SIGKILL')).toBeNull();
    const tokens = answers.filter((a) => a.status === 200).map((a) => a.body.token as string);
    expect(tokens).toHaveLength(50);
    const restarted = await startServerProcess(env);
    try {
      const checks = await Promise.all(
        tokens.map((token) =>
          fetch(`${restarted.url}/me`, { headers: { authorization: `Bearer ${token}` } }),
        ),
      );
      expect(checks.map((c) => c.status)).toEqual(tokens.map(() => 200));
    } finally {
      await restarted.stop();
    }
  });

  it('finishes the in-flight request on SIGTERM, then exits 0', async () => {
    const control = emulator?.control;
    if (!control) throw new Error('no emulator');
    const server = await startServerProcess(
      serverEnv(emulator?.url ?? '', join(dataDir, 'graceful')),
    );
    const minted = await control.mintLoginCode({ appid: APP.appid });
    // WeChat answers only after the server was told to stop: a -1 retried once, then success.
    await control.injectFault({
      path: '/sns/jscode2session',
      kind: 'errcode',
      errcode: -1,
      times: 1,
    });
    const pending = fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: minted.code }),
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const exit = server.stop('SIGTERM');
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(await exit).toBe(0);
  });
});
