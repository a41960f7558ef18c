/**
 * The store contract on the cloud database driver (wechat-core's CloudDatabaseStore), through the
 * wx-server-sdk stand-in's database: the same suite SQLite passes, plus what only the cloud
 * needs (collections created at open, a unionid held by its claim, outages as store_unavailable).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CloudDatabaseStore, type CloudDatabase } from '@wxlogin/wechat-core/cloud';
import { describeStoreContract } from '@wxlogin/wechat-core/testing';
import type * as Sdk from 'wx-server-sdk';
import { beforeEach, describe, expect, it } from 'vitest';

interface StandinControl {
  reset(): void;
  dump(name: string, options?: { env?: string }): Record<string, unknown>[] | undefined;
  injectFailures(options?: {
    count?: number;
    kind?: 'timeout' | 'network' | 'http' | 'server';
  }): void;
  clearFailures(): void;
}

const standin = fileURLToPath(new URL('./wx-server-sdk/index.js', import.meta.url));
const cloud = createRequire(standin)(standin) as typeof Sdk & {
  __standin: { database: StandinControl };
};
const control = cloud.__standin.database;
const ENV = 'test-env-contract-1a2b';

function database(): CloudDatabase {
  process.env.TCB_ENV = ENV;
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  return cloud.database({ throwOnNotFound: false });
}

describeStoreContract(
  'cloud database (wx-server-sdk stand-in)',
  async () => {
    control.reset();
    return CloudDatabaseStore.open(database());
  },
  { destroy: () => Promise.resolve(control.reset()), avatarFiles: false },
);

describe('CloudDatabaseStore', () => {
  beforeEach(() => control.reset());

  it('creates the collections it uses, and opens again when they exist', async () => {
    await CloudDatabaseStore.open(database());
    expect(control.dump('users', { env: ENV })).toEqual([]);
    expect(control.dump('unionids', { env: ENV })).toEqual([]);
    const again = await CloudDatabaseStore.open(database());
    expect(
      (await again.users.upsertLogin({ appid: 'wxa', openid: 'o', now: new Date() })).isNewUser,
    ).toBe(true);
  });

  it('keys an identity by (appid, openid) and a unionid by its claim, with no index', async () => {
    const store = await CloudDatabaseStore.open(database());
    const { user } = await store.users.upsertLogin({
      appid: 'wxa',
      openid: 'oClaim',
      unionid: 'uClaim',
      now: new Date(),
    });
    expect(control.dump('identities', { env: ENV })?.map((d) => d._id)).toEqual(['wxa:oClaim']);
    expect(control.dump('unionids', { env: ENV })).toEqual([{ _id: 'uClaim', owner: user.id }]);
  });

  it('answers store_unavailable when the service fails, and writes nothing half', async () => {
    const store = await CloudDatabaseStore.open(database());
    control.injectFailures({ count: 1, kind: 'network' });
    await expect(
      store.users.upsertLogin({ appid: 'wxa', openid: 'oDown', unionid: 'uDown', now: new Date() }),
    ).rejects.toMatchObject({ code: 'store_unavailable' });
    control.clearFailures();
    const after = await store.users.upsertLogin({
      appid: 'wxa',
      openid: 'oDown',
      unionid: 'uDown',
      now: new Date(),
    });
    expect(after.isNewUser).toBe(true);
    expect(control.dump('users', { env: ENV })).toHaveLength(1);
  });
});
