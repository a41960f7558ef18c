/**
 * Real disk faults under a running server process: DATA_DIR on a small tmpfs that is filled up,
 * or made read-only (chmod) under a server that runs without root's permission overrides (a
 * filesystem cannot be remounted read-only while SQLite holds its file open for writing). Whatever the disk does and for as long as it does it, the process answers
 * (200 where nothing needs writing, 503 store_unavailable where it does, never 500), leaves no
 * temporary file, and serves normally again once the disk recovers.
 *
 * Needs `mount` (root with CAP_SYS_ADMIN, as in CI's container) and util-linux's `setpriv`;
 * elsewhere the run prints a SKIP line and reports the tests as skipped.
 */
import { tempDir } from '@wxlogin/test-kit';
import { execFileSync } from 'node:child_process';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess } from '../support/processes.js';
import { serverEnv, useStack } from '../support/stack.js';

function tryMount(dir: string): boolean {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mount = await tempDir('disk');
const mountDir = mount.path;
const mounted = tryMount(mountDir);
if (!mounted)
  process.stdout.write(
    'SKIP disk faults: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN, and setpriv)\n',
  );

afterAll(async () => {
  if (mounted) execFileSync('umount', ['-l', mountDir]);
  await mount.remove();
});

describe.skipIf(!mounted)('disk faults', () => {
  const stack = useStack();
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );

  function clientOf(url: string) {
    const login = () => stack.loginOn(url);
    const upload = (token: string) =>
      stack.uploadAvatar(token, [{ bytes: png, type: 'image/png', name: 'a.png' }], url);
    const me = async (token: string) =>
      (await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } })).status;
    return { login, upload, me };
  }

  async function serverOnTmpfs() {
    const dataDir = join(mountDir, `data-${Date.now()}`);
    const { server } = await stack.extraServer({
      DATA_DIR: dataDir,
      SQLITE_BUSY_TIMEOUT_MS: '200',
    });
    return { server, dataDir, ...clientOf(server.url) };
  }

  it('a full disk answers 503 where a write is needed, keeps no .tmp, and recovers', async () => {
    const { server, dataDir, login, upload, me } = await serverOnTmpfs();
    const first = await login();
    expect(first.status).toBe(200);
    const token = first.body.token as string;
    expect((await upload(token)).status).toBe(200);

    // Fill the filesystem to the last byte.
    const filler = join(mountDir, 'filler');
    const handle = await open(filler, 'w');
    const block = Buffer.alloc(64 * 1024);
    try {
      for (;;) await handle.write(block);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('ENOSPC');
    } finally {
      await handle.close().catch(() => undefined);
    }

    try {
      const during = [];
      for (let i = 0; i < 10; i += 1) during.push(await login());
      for (const answer of during) {
        expect([200, 503]).toContain(answer.status);
        if (answer.status === 503) expect(answer.body.error?.code).toBe('store_unavailable');
      }
      const refused = await upload(token);
      expect(refused.status).toBe(503);
      expect(refused.body.error?.code).toBe('store_unavailable');
      expect(await me(token)).toBe(200); // reading needs no space
      expect((await readdir(join(dataDir, 'avatars'))).filter((n) => n.endsWith('.tmp'))).toEqual(
        [],
      );
    } finally {
      // Free the space whatever happened, or every later test on this tmpfs fails too.
      await rm(filler, { force: true });
    }
    expect((await login()).status).toBe(200);
    expect((await upload(token)).status).toBe(200);
    expect(server.output()).not.toContain('"level":60');
    expect(await server.stop()).toBe(0); // still running, and shuts down cleanly
  }, 30_000);

  it('a read-only DATA_DIR for several seconds answers 503 and recovers when it is writable again', async () => {
    // Permissions bite root only without the capabilities that override them: the server runs
    // under setpriv (util-linux) with those dropped.
    const dataDir = join(mountDir, 'read-only');
    await mkdir(dataDir);
    const server = await startServerProcess(
      { ...serverEnv(stack.emulator.url, dataDir), SQLITE_BUSY_TIMEOUT_MS: '200' },
      ['setpriv', '--bounding-set', '-dac_override,-dac_read_search,-fowner', '--'],
    );
    try {
      const { login, upload, me } = clientOf(server.url);
      const first = await login();
      expect(first.status).toBe(200);
      const token = first.body.token as string;
      expect((await upload(token)).status).toBe(200);

      execFileSync('chmod', ['-R', 'a-w', dataDir]);
      try {
        const started = Date.now();
        while (Date.now() - started < 4_000) {
          // The database file is open already and stays writable; new files cannot be made.
          expect([200, 503]).toContain((await login()).status);
          const refused = await upload(token);
          expect(refused.status).toBe(503);
          expect(refused.body.error?.code).toBe('store_unavailable');
          expect(await me(token)).toBe(200);
          await sleep(250);
        }
      } finally {
        execFileSync('chmod', ['-R', 'u+w', dataDir]);
      }
      expect((await login()).status).toBe(200);
      expect((await upload(token)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0); // still running, and shuts down cleanly
    }
  }, 30_000);
});
