import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatorProcess, startEmulatorProcess } from '@wxlogin/wechat-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerToExit, startServerProcess } from './test-support/processes.js';
import { APP, serverEnv } from './test-support/stack.js';

let emulator: EmulatorProcess | undefined;
let dataDir = '';
beforeAll(async () => {
  emulator = await startEmulatorProcess({ apps: [APP] });
  dataDir = await mkdtemp(join(tmpdir(), 'wxlogin-lifecycle-'));
});
afterAll(async () => {
  await emulator?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('wxlogin-server process', () => {
  it('refuses to start with one line naming a missing setting', async () => {
    const { code, output } = await runServerToExit({ WECHAT_SECRET: 'x' });
    expect(code).toBe(1);
    expect(output.trim()).toBe('wxlogin-server: config: WECHAT_APPID is required');
  });

  it('refuses a second process on the same DATA_DIR', async () => {
    const env = serverEnv(emulator?.url ?? '', join(dataDir, 'shared'));
    const first = await startServerProcess(env);
    try {
      const second = await runServerToExit({ ...env, PORT: '0' });
      expect(second.code).toBe(1);
      expect(second.output).toMatch(/in use by another process/);
    } finally {
      await first.stop();
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
