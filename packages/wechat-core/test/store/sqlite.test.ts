import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { cp, readFile, readdir, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'libsql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionManager } from '../../src/auth/sessions.js';
import { describeStoreContract } from '../../src/store/contract.js';
import { SQLITE_FILE, SqliteStore } from '../../src/store/sqlite.js';

const exec = promisify(execFile);
const dirs: TempDir[] = [];
async function freshDir(): Promise<string> {
  const dir = await tempDir('sqlite');
  dirs.push(dir);
  return dir.path;
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => dir.remove()));
});

// The folders go in afterAll above.
describeStoreContract('sqlite', async () => SqliteStore.open({ dataDir: await freshDir() }));

const DAY = 24 * 3600_000;

describe('SqliteStore', () => {
  it('keeps users across a close and reopen of the same DATA_DIR, in one file', async () => {
    const dataDir = await freshDir();
    const first = await SqliteStore.open({ dataDir });
    const { user } = await first.users.upsertLogin({
      appid: 'wxa',
      openid: 'o1',
      sessionKey: 'k',
      now: new Date(),
    });
    await first.users.updateProfile(user.id, { nickname: '持久' }, new Date());
    await first.close();
    expect((await stat(join(dataDir, SQLITE_FILE))).isFile()).toBe(true);
    const second = await SqliteStore.open({ dataDir });
    expect((await second.users.findUser(user.id))?.profile.nickname).toBe('持久');
    expect((await second.users.findIdentity('wxa', 'o1'))?.userId).toBe(user.id);
    await second.close();
  });

  it('lets several processes share one DATA_DIR: one lease, one user, one identity', async () => {
    const dataDir = await freshDir();
    // Each child opens the built store on the same folder and races the others; a store in this
    // process would wait on its own thread for the others' locks, so real processes it is.
    const child = `
      const { SqliteStore } = await import('@wxlogin/wechat-core/sqlite');
      const store = await SqliteStore.open({ dataDir: process.argv[1] });
      const now = new Date(${Date.now()});
      const until = new Date(now.getTime() + 60_000);
      const leases = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        store.accessTokens.acquireLease('wxa', process.pid + '-' + i, until, now)));
      const logins = await Promise.all(Array.from({ length: 20 }, () =>
        store.users.upsertLogin({ appid: 'wxa', openid: 'shared', unionid: 'u-shared', now })));
      await store.close();
      console.log(JSON.stringify({ leases: leases.filter(Boolean).length,
        users: logins.map((l) => l.user.id), created: logins.filter((l) => l.isNewUser).length }));
    `;
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        exec(process.execPath, ['--input-type=module', '-e', child, dataDir], {
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
        }),
      ),
    );
    const results = runs.map(
      (run) => JSON.parse(run.stdout) as { leases: number; users: string[]; created: number },
    );
    expect(results.reduce((sum, r) => sum + r.leases, 0)).toBe(1);
    expect(new Set(results.flatMap((r) => r.users)).size).toBe(1);
    expect(results.reduce((sum, r) => sum + r.created, 0)).toBe(1);
    const store = await SqliteStore.open({ dataDir });
    const docs = await store.exportDocuments();
    expect(docs.users).toHaveLength(1);
    expect(docs.identities).toHaveLength(1);
    await store.close();
  });

  it('sweeps expired sessions and keeps live ones', async () => {
    const dataDir = await freshDir();
    const store = await SqliteStore.open({ dataDir, sweepIntervalMs: 0 });
    const now = Date.now();
    const session = (id: string, expiresAt: number) => ({
      id,
      secretHash: new Uint8Array(32),
      userId: 'u',
      appid: 'wxa',
      createdAt: new Date(now - DAY),
      expiresAt: new Date(expiresAt),
      lastVerifiedAt: new Date(now - DAY),
    });
    await Promise.all(
      Array.from({ length: 12_000 }, (_, i) =>
        store.sessions.insert(session(`dead${i}`, now - i - 1)),
      ),
    );
    await store.sessions.insert(session('live', now + DAY));
    expect(await store.sweepExpiredSessions(new Date(now))).toBe(12_000);
    expect((await store.exportDocuments()).sessions).toHaveLength(1);
    expect(await store.sessions.findActive('live', new Date(now))).not.toBeNull();
    await store.close();
  });

  it('refuses calls after close instead of touching a closed database', async () => {
    const dataDir = await freshDir();
    const store = await SqliteStore.open({ dataDir });
    // A login still running at close ends as store_unavailable (libsql would abort the process
    // on a closed connection), and the write of this turn that it made is committed by close.
    const pending = store.users.upsertLogin({ appid: 'wxa', openid: 'late', now: new Date() });
    await store.close();
    await expect(pending).rejects.toMatchObject({ code: 'store_unavailable' });
    const reopened = await SqliteStore.open({ dataDir });
    expect(await reopened.users.findIdentity('wxa', 'late')).not.toBeNull();
    await reopened.close();
    await expect(store.users.findUser('x')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(
      store.users.upsertLogin({ appid: 'wxa', openid: 'after', now: new Date() }),
    ).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('stops with one line naming the file when it is not a SQLite database', async () => {
    const dataDir = await freshDir();
    const file = join(dataDir, SQLITE_FILE);
    await writeFile(file, 'not a database '.repeat(500));
    await expect(SqliteStore.open({ dataDir })).rejects.toThrow(
      new RegExp(
        `^embedded store: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} cannot be used: SQLITE_NOTADB`,
      ),
    );
    // Nothing was recreated over it.
    expect(await readFile(file, 'utf8')).toBe('not a database '.repeat(500));
  });

  it('refuses a file written by a newer release', async () => {
    const dataDir = await freshDir();
    await (await SqliteStore.open({ dataDir })).close();
    const db = new Database(join(dataDir, SQLITE_FILE));
    db.exec('PRAGMA user_version = 99');
    db.close();
    await expect(SqliteStore.open({ dataDir })).rejects.toThrow(/schema version 99, newer/);
  });

  it('answers store_unavailable while another process holds the write lock, then recovers', async () => {
    const dataDir = await freshDir();
    const store = await SqliteStore.open({ dataDir, busyTimeoutMs: 100 });
    const other = new Database(join(dataDir, SQLITE_FILE));
    other.exec('BEGIN IMMEDIATE');
    await expect(
      store.users.upsertLogin({ appid: 'wxa', openid: 'locked', now: new Date() }),
    ).rejects.toMatchObject({ code: 'store_unavailable' });
    other.exec('ROLLBACK');
    other.close();
    const after = await store.users.upsertLogin({
      appid: 'wxa',
      openid: 'locked',
      now: new Date(),
    });
    expect(after.isNewUser).toBe(true);
    await store.close();
  });
});

describe('upgrade from release 0.1 (nedb files)', () => {
  const fixture = fileURLToPath(new URL('../../test/fixtures/nedb-release-0.1', import.meta.url));
  let known: { userA: string; userB: string; liveToken: string; expiredToken: string };
  beforeAll(async () => {
    known = JSON.parse(await readFile(`${fixture}.json`, 'utf8')) as typeof known;
  });

  it('imports every document once, keeps the old files renamed, and the avatars in place', async () => {
    const dataDir = join(await freshDir(), 'data');
    await cp(fixture, dataDir, { recursive: true });
    // A lock left by a 0.1 process that was killed: stale, so the upgrade goes ahead.
    await mkdir(join(dataDir, 'store.lock'));
    await utimes(join(dataDir, 'store.lock'), new Date(0), new Date(0));
    const lines: string[] = [];
    const store = await SqliteStore.open({ dataDir, progress: (line) => lines.push(line) });
    expect(lines).toEqual([
      expect.stringMatching(
        /^importing release 0\.1's data files in .* into wxlogin\.sqlite \(once\)$/,
      ),
      'imported 2 users, 3 identities, 2 sessions, 1 access_tokens, 1 rewards; the old files are kept as <name>.db.nedb-0.1',
    ]);
    const a = await store.users.findUser(known.userA);
    expect(a).toMatchObject({
      id: known.userA,
      unionid: 'uFixtureUnion01',
      profile: {
        nickname: '升级用户🌟',
        avatarUrl: 'http://127.0.0.1:3000/avatars/AvatarFixtureAvatarFix',
      },
      phone: { purePhoneNumber: '13800138000', countryCode: '86' },
    });
    expect(a?.phone?.verifiedAt).toEqual(new Date('2026-11-20T08:03:00.000Z'));
    expect(
      (await store.users.findIdentity('wxfixture0000000002', 'oFixtureUserA0000000000002'))?.userId,
    ).toBe(known.userA);
    expect(
      (await store.users.findIdentity('wxfixture0000000001', 'oFixtureUserA0000000000001'))
        ?.sessionKey,
    ).toBe('c2Vzc2lvbktleUFBQUFBQQ==');
    expect(
      (await store.users.findIdentity('wxfixtureoa00000001', 'oFixtureWebB00000000000001'))?.oauth,
    ).toMatchObject({
      accessToken: 'ACCESS-B',
      refreshToken: 'REFRESH-B',
      scope: 'snsapi_userinfo',
    });
    // The session token handed out by 0.1 still signs in; the expired one does not.
    const sessions = new SessionManager({ store: store.sessions, ttlMs: 30 * DAY });
    expect((await sessions.verify(known.liveToken)).userId).toBe(known.userA);
    await expect(sessions.verify(known.expiredToken)).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect((await store.rewards.grantOnce(known.userA, 'welcome', new Date())).granted).toBe(false);
    expect((await store.accessTokens.get('wxfixture0000000001'))?.accessToken).toBe('STABLE-TOKEN');
    expect((await store.avatars.find('AvatarFixtureAvatarFix'))?.contentType).toBe('image/png');
    // The same users, not new ones, at the next login.
    const again = await store.users.upsertLogin({
      appid: 'wxfixture0000000001',
      openid: 'oFixtureUserA0000000000001',
      now: new Date(),
    });
    expect(again).toMatchObject({ isNewUser: false, user: { id: known.userA } });
    await store.close();

    const files = await readdir(dataDir);
    for (const name of ['users', 'identities', 'sessions', 'access_tokens', 'rewards']) {
      expect(files).toContain(`${name}.db.nedb-0.1`);
      expect(files).not.toContain(`${name}.db`);
    }
    expect(files).not.toContain('store.lock');
    // A second open imports nothing again.
    const reopened = await SqliteStore.open({ dataDir });
    expect((await reopened.exportDocuments()).users).toHaveLength(2);
    await reopened.close();
  });

  it('refuses to upgrade while a 0.1 process still holds the DATA_DIR', async () => {
    const dataDir = join(await freshDir(), 'data');
    await cp(fixture, dataDir, { recursive: true });
    await mkdir(join(dataDir, 'store.lock'));
    await expect(SqliteStore.open({ dataDir })).rejects.toThrow(
      /in use by a running wxlogin of the previous release/,
    );
    expect(await readdir(dataDir)).toContain('users.db');
  });
});
