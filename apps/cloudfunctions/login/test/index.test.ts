import { afterEach, describe, expect, it, vi } from 'vitest';
import { APP, CLOUD_ENV, setCaller, useCloudHarness } from '../../shared/test-support/harness.js';

const harness = useCloudHarness();
afterEach(() => setCaller(undefined));

describe('cloud function login (built index.js, wx-server-sdk stand-in)', () => {
  it('creates the user WeChat identified, then finds the same one', async () => {
    const main = await harness.load('login');
    setCaller({ openid: 'oCloudLogin0000000000000001', unionid: 'union-cloud-1' });
    const first = await main({}, {});
    expect(first).toMatchObject({
      ok: true,
      isNewUser: true,
      user: { id: expect.any(String) as string },
    });
    const second = await main({}, {});
    expect(second).toMatchObject({
      ok: true,
      isNewUser: false,
      user: { id: (first.user as { id: string }).id },
    });
    expect(JSON.stringify(second)).not.toContain('oCloudLogin');
  });

  it('keeps two users apart and logs a warning when a later unionid is already held', async () => {
    const main = await harness.load('login');
    const unionid = `union-cloud-held-${Date.now()}`;
    setCaller({ openid: 'oCloudLoginHolder0000000001', unionid });
    const holder = await main({}, {});
    setCaller({ openid: 'oCloudLoginLater00000000001', appid: 'wx000000000cloudb2' });
    const later = await main({}, {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      setCaller({ openid: 'oCloudLoginLater00000000001', appid: 'wx000000000cloudb2', unionid });
      const again = await main({}, {});
      expect((again.user as { id: string }).id).toBe((later.user as { id: string }).id);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(JSON.parse(String(warn.mock.calls[0]?.[0]))).toMatchObject({
        level: 'warn',
        event: 'unionid_conflict',
        userId: (later.user as { id: string }).id,
        heldByUserId: (holder.user as { id: string }).id,
      });
    } finally {
      warn.mockRestore();
    }
  });

  it('answers unauthorized when called without a WeChat caller', async () => {
    const main = await harness.load('login');
    setCaller(undefined);
    expect(await main({}, {})).toEqual({
      ok: false,
      error: {
        code: 'unauthorized',
        message: 'no caller identity: call this function from the mini-program',
      },
    });
  });

  it('answers store_unavailable when the cloud database fails, then serves again', async () => {
    const main = await harness.load('login');
    setCaller({ openid: 'oCloudLogin0000000000000002' });
    harness.database.injectFailures({ count: 1, kind: 'network' });
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await main({}, {})).toMatchObject({ ok: false, error: { code: 'store_unavailable' } });
    } finally {
      error.mockRestore();
    }
    harness.database.clearFailures();
    expect(await main({}, {})).toMatchObject({ ok: true, isNewUser: true });
  });

  it("stores the user in the environment's cloud database by default", async () => {
    const main = await harness.load('login');
    setCaller({ openid: 'oCloudLoginStored0000000001' });
    const answer = await main({}, {});
    const users = harness.database.dump('users', { env: CLOUD_ENV }) ?? [];
    expect(users.map((u) => u._id)).toContain((answer.user as { id: string }).id);
    const identities = harness.database.dump('identities', { env: CLOUD_ENV }) ?? [];
    expect(identities.map((i) => i._id)).toContain(`${APP.appid}:oCloudLoginStored0000000001`);
  });
});
