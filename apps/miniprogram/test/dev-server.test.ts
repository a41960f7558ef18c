/**
 * Real-device preview: `npm start` (scripts/start-stack.mjs) writes the URL a phone uses into
 * miniprogram/dev-server.ts, which config.ts reads. The address picker and the writer are real;
 * the network interfaces are given, since this machine's own are not what a test can rely on.
 */
import { tempDir } from '@wxlogin/test-kit';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script of the repository, without types.
import { devServerModule, lanAddress, writeDevServer } from '../../../scripts/lan.mjs';

const lan = {
  lanAddress: lanAddress as (interfaces: Record<string, unknown[]>) => string | undefined,
  devServerModule: devServerModule as (url: string) => string,
  writeDevServer: writeDevServer as (file: string, url: string) => Promise<boolean>,
};

const entry = (address: string, family: string | number, internal = false) => ({
  address,
  family,
  internal,
});

describe('LAN preview', () => {
  it("picks the machine's private IPv4 address, never loopback or IPv6", () => {
    expect(
      lan.lanAddress({
        lo: [entry('127.0.0.1', 'IPv4', true), entry('::1', 'IPv6', true)],
        docker0: [entry('fe80::1', 'IPv6')],
        utun: [entry('100.64.1.2', 'IPv4')],
        wlan0: [entry('192.168.1.23', 'IPv4'), entry('fe80::2', 'IPv6')],
      }),
    ).toBe('192.168.1.23');
    expect(lan.lanAddress({ eth0: [entry('10.0.0.5', 4)] })).toBe('10.0.0.5');
    expect(lan.lanAddress({ lo: [entry('127.0.0.1', 'IPv4', true)] })).toBeUndefined();
  });

  it('writes the URL into dev-server.ts only when it changes, in the form config.ts imports', async () => {
    const dir = await tempDir('devserver');
    try {
      const file = join(dir.path, 'dev-server.ts');
      expect(await lan.writeDevServer(file, 'http://192.168.1.23:3000')).toBe(true);
      expect(await readFile(file, 'utf8')).toContain(
        "export const DEV_SERVER_URL = 'http://192.168.1.23:3000';",
      );
      expect(await lan.writeDevServer(file, 'http://192.168.1.23:3000')).toBe(false);
    } finally {
      await dir.remove();
    }
  });

  it('is what config.ts reads the http base URL from', async () => {
    const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
    const module = await readFile(here('../miniprogram/dev-server.ts'), 'utf8');
    // Whatever npm start last wrote there, it has the generated form.
    const url = /DEV_SERVER_URL = '([^']+)'/.exec(module)?.[1] ?? '';
    expect(module).toBe(lan.devServerModule(url));
    const config = await readFile(here('../miniprogram/config.ts'), 'utf8');
    expect(config).toContain("import { DEV_SERVER_URL } from './dev-server.js';");
    expect(config).toContain('baseUrl: DEV_SERVER_URL');
  });
});
