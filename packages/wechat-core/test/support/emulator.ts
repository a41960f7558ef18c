/** Test wiring: one real emulator process per test file, and clients pointed at it. */
import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { type EmulatorProcess, startEmulatorProcess } from '@wxlogin/wechat-emulator';
import { afterAll, beforeAll } from 'vitest';
import { WechatClient } from '../../src/wechat/client.js';
import type { WechatHttpOptions } from '../../src/wechat/http.js';

// Test-only credentials the emulator is started with; not a real app.
export const APP = { appid: 'wx00000000emulator', secret: 'emulator-only-secret' } as const;
export const OTHER_APP = { appid: 'wx00000000otherapp', secret: 'other-emulator-secret' } as const;

/** Starts the emulator process before the file's tests and stops it after. */
export function useEmulator(): { readonly current: EmulatorProcess } {
  const holder: { current?: EmulatorProcess } = {};
  beforeAll(async () => {
    holder.current = await startEmulatorProcess({ apps: [APP, OTHER_APP] });
  });
  afterAll(async () => {
    await holder.current?.stop();
  });
  return {
    get current(): EmulatorProcess {
      if (!holder.current) throw new Error('emulator not started yet');
      return holder.current;
    },
  };
}

export function clientFor(
  emulator: EmulatorProcess,
  options: WechatHttpOptions = {},
): WechatClient {
  return new WechatClient({
    apiOrigin: emulator.url,
    openOrigin: emulator.url,
    retryBaseDelayMs: 10,
    ...options,
  });
}

/** A fresh temporary DATA_DIR, removed after the file's tests. */
export function useTempDir(label: string): { readonly path: string } {
  let dir: TempDir | undefined;
  beforeAll(async () => {
    dir = await tempDir(label);
  });
  afterAll(async () => {
    await dir?.remove();
  });
  return {
    get path(): string {
      if (!dir) throw new Error('temp dir not created yet');
      return dir.path;
    },
  };
}
