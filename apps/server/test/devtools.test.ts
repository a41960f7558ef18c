/**
 * WeChat DevTools preview offline: `npm start` runs the emulator with --devtools-app for the dev
 * app, so the codes DevTools' wx.login produces log in (one local user), and nothing of the kind
 * happens against a WeChat that is not in that mode (the real one answers 40029: invalid_code).
 */
import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { join } from 'node:path';
import {
  DEVTOOLS_MOCK_CODE,
  type EmulatorProcess,
  startEmulatorProcess,
} from '@wxlogin/wechat-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from './support/processes.js';
import { APP, serverEnv } from './support/stack.js';

let devtoolsEmulator: EmulatorProcess | undefined;
let strictEmulator: EmulatorProcess | undefined;
let devServer: ServerProcess | undefined;
let strictServer: ServerProcess | undefined;
let dir = '';
let work: TempDir | undefined;

beforeAll(async () => {
  work = await tempDir('devtools');
  dir = work.path;
  devtoolsEmulator = await startEmulatorProcess({ apps: [APP], devtoolsApps: [APP.appid] });
  strictEmulator = await startEmulatorProcess({ apps: [APP] });
  devServer = await startServerProcess(serverEnv(devtoolsEmulator.url, join(dir, 'dev')));
  strictServer = await startServerProcess(serverEnv(strictEmulator.url, join(dir, 'strict')));
});
afterAll(async () => {
  await devServer?.stop();
  await strictServer?.stop();
  await devtoolsEmulator?.stop();
  await strictEmulator?.stop();
  await work?.remove();
});

async function login(server: ServerProcess | undefined, code: string) {
  if (!server) throw new Error('server not started');
  const response = await fetch(`${server.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      token?: string;
      isNewUser?: boolean;
      user?: { id: string };
      error?: { code: string };
    },
  };
}

describe('DevTools preview against the local emulator', () => {
  it('logs the tourist mock code in, twice the same user, and the token works', async () => {
    const first = await login(devServer, DEVTOOLS_MOCK_CODE);
    const second = await login(devServer, DEVTOOLS_MOCK_CODE);
    expect(first).toMatchObject({ status: 200, body: { isNewUser: true } });
    expect(second).toMatchObject({ status: 200, body: { isNewUser: false } });
    expect(second.body.user?.id).toBe(first.body.user?.id);
    const me = await fetch(`${devServer?.url}/me`, {
      headers: { authorization: `Bearer ${second.body.token}` },
    });
    expect(me.status).toBe(200);
  });

  it('logs a code DevTools got from WeChat for the dev app in as the same local user', async () => {
    const mock = await login(devServer, DEVTOOLS_MOCK_CODE);
    const real = await login(devServer, '0c3Xyz0w3abcDEF1GhI2jk3LmN4oP5qR');
    expect(real).toMatchObject({ status: 200, body: { isNewUser: false } });
    expect(real.body.user?.id).toBe(mock.body.user?.id);
  });

  it('answers invalid_code for the mock code when WeChat is not in DevTools mode', async () => {
    const answer = await login(strictServer, DEVTOOLS_MOCK_CODE);
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_code' } } });
    expect(answer.body.token).toBeUndefined();
  });

  it('refuses codes with control characters before asking WeChat', async () => {
    for (const code of ['abc\u0000def', 'line\nbreak', 'tab\there', 'bidi\u202e']) {
      expect(await login(devServer, code)).toMatchObject({
        status: 400,
        body: { error: { code: 'bad_request' } },
      });
    }
  });
});
