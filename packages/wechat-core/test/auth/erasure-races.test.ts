/**
 * The erasure's races, made to happen at the exact step where they could hurt: the store is
 * wrapped so that another request's work runs between two steps of a login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthDeps } from '../../src/core.js';
import type { StoreDriver } from '../../src/store/port.js';
import { PortStore } from '../../src/store/repositories.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { SessionRecord, SessionRepository, Store } from '../../src/store/types.js';
import { APP, OTHER_APP, useEmulator, useTempDir } from '../support/emulator.js';
import type { AuthDeps } from '../../src/auth/deps.js';
import { eraseDueAccounts, requestDeletion } from '../../src/auth/lifecycle.js';
import { login } from '../../src/auth/login.js';
import { SessionManager } from '../../src/auth/sessions.js';

const emulator = useEmulator();
const temp = useTempDir('erasure-races');

let sqlite: SqliteStore;
/** Runs once, between the real upsertIdentity's call and its answer (or before it). */
let beforeIdentity: (() => Promise<void>) | undefined;
let afterIdentity: ((userId: string) => Promise<void>) | undefined;
let store: Store;

beforeAll(async () => {
  sqlite = await SqliteStore.open({ dataDir: temp.path, sweepIntervalMs: 0 });
  const driver = (sqlite as unknown as { driver: StoreDriver }).driver;
  const wrapped = new Proxy(driver, {
    get(target, key) {
      if (key === 'upsertIdentity') {
        return async (...args: Parameters<StoreDriver['upsertIdentity']>) => {
          const before = beforeIdentity;
          beforeIdentity = undefined;
          await before?.();
          const identity = await target.upsertIdentity(...args);
          const after = afterIdentity;
          afterIdentity = undefined;
          await after?.(identity.userId);
          return identity;
        };
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  store = new PortStore(wrapped);
});
afterAll(async () => {
  await sqlite.close();
});

function depsWith(sessions?: SessionManager): AuthDeps {
  const deps = createAuthDeps({
    apps: [APP, OTHER_APP],
    store,
    wechat: { apiOrigin: emulator.current.url, openOrigin: emulator.current.url, timeoutMs: 1000 },
    contentSecurity: false,
  });
  return sessions ? { ...deps, sessions } : deps;
}

async function loginAs(
  deps: AuthDeps,
  openid?: string,
  appid: string = APP.appid,
  unionid?: string,
) {
  const minted = await emulator.current.control.mintLoginCode({
    appid,
    ...(openid ? { openid } : {}),
    ...(unionid ? { unionid } : {}),
  });
  return { ...(await login({ code: minted.code }, { appid }, deps)), openid: minted.openid };
}

/** Erases a user the way the sweep does once its deletion is due. */
async function eraseNow(userId: string) {
  const now = new Date();
  await store.users.scheduleDeletion(
    userId,
    { requestedAt: now, deleteAt: now, reason: 'requested' },
    now,
  );
  await store.users.claimErasure(userId, now);
  await store.accounts.erase(userId);
}

async function mentions(userId: string): Promise<boolean> {
  return JSON.stringify(await store.exportDocuments()).includes(userId);
}

describe('a login racing an erasure', () => {
  it('whose identity was erased after its upsert makes a new user, never the erased one again', async () => {
    const deps = depsWith();
    const first = await loginAs(deps);
    afterIdentity = async (userId) => {
      expect(userId).toBe(first.user.id);
      await eraseNow(userId);
    };
    const again = await loginAs(deps, first.openid);
    expect(again.isNewUser).toBe(true);
    expect(again.user.id).not.toBe(first.user.id);
    expect(await mentions(first.user.id)).toBe(false);
  });

  it("linked by unionid to a user erased meanwhile gets a new user id, not the erased one's", async () => {
    const deps = depsWith();
    const unionid = `union-race-${Date.now()}`;
    const first = await loginAs(deps, undefined, APP.appid, unionid);
    // The other app's login found the user by unionid; then the erasure ran to the end.
    beforeIdentity = () => eraseNow(first.user.id);
    const other = await loginAs(deps, undefined, OTHER_APP.appid, unionid);
    expect(other.user.id).not.toBe(first.user.id);
    expect(other.isNewUser).toBe(true);
    expect(await mentions(first.user.id)).toBe(false);
  });

  it('a deletion requested between its user read and its session is in its answer', async () => {
    const base = depsWith();
    const first = await loginAs(base);
    let once = true;
    const sessions: SessionRepository = {
      ...store.sessions,
      insert: async (session: SessionRecord) => {
        if (once) {
          once = false;
          await requestDeletion({ userId: session.userId, appid: session.appid }, base, {
            days: 7,
          });
        }
        return store.sessions.insert(session);
      },
      findActive: (id, now) => store.sessions.findActive(id, now),
      extend: (id, expiresAt, at) => store.sessions.extend(id, expiresAt, at),
      delete: (id) => store.sessions.delete(id),
      deleteAllOfUser: (userId) => store.sessions.deleteAllOfUser(userId),
      activeOfUser: (userId, now) => store.sessions.activeOfUser(userId, now),
      deleteOfUser: (id, userId) => store.sessions.deleteOfUser(id, userId),
    };
    const deps = depsWith(new SessionManager({ store: sessions, ttlMs: 30 * 24 * 3600_000 }));
    const during = await loginAs(deps, first.openid);
    expect(during.user.id).toBe(first.user.id);
    // Its session outlived the deletion's "end every session": so it must say so.
    expect(during.deletion).toEqual({
      requestedAt: expect.any(String) as unknown,
      deleteAt: expect.any(String) as unknown,
    });
  });
});

describe('the sweep', () => {
  it('erases every due account, batch after batch', async () => {
    const deps = depsWith();
    const users: string[] = [];
    for (let i = 0; i < 5; i += 1) users.push((await loginAs(deps)).user.id);
    const now = new Date();
    for (const id of users)
      await store.users.scheduleDeletion(
        id,
        { requestedAt: now, deleteAt: now, reason: 'requested' },
        now,
      );
    expect(await eraseDueAccounts(deps, 2)).toBe(5);
    for (const id of users) expect(await mentions(id)).toBe(false);
    expect(await eraseDueAccounts(deps, 2)).toBe(0);
  });
});
