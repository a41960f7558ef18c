import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  APP,
  CLOUD_ENV,
  cloudAvatarFile,
  setCaller,
  useCloudHarness,
} from '../../shared/test-support/harness.js';

const harness = useCloudHarness();
afterEach(() => {
  setCaller(undefined);
  vi.useRealTimers();
});

const DAY = 24 * 3600_000;

/** A cloud user with a nickname, a cloud avatar and the welcome gift. */
async function cloudUser(openid: string) {
  const [login, userinfo, rewards, account, mediacheck] = await Promise.all([
    harness.load('login'),
    harness.load('userinfo'),
    harness.load('rewards'),
    harness.load('account'),
    harness.load('mediacheck'),
  ]);
  await harness.visit(openid);
  setCaller({ openid });
  const userId = ((await login({}, {})).user as { id: string }).id;
  const avatarUrl = cloudAvatarFile(userId, 'avatar.png');
  harness.putFile(avatarUrl);
  expect(await userinfo({ nickname: '云端注销', avatarUrl }, {})).toMatchObject({ ok: true });
  // WeChat's image check passes it: it is the profile's avatar.
  await harness.routeMediaChecks(mediacheck);
  setCaller({ openid });
  expect(await rewards({}, {})).toMatchObject({ ok: true, granted: true });
  const first = await login({}, {});
  return { login, account, avatarUrl, userId: (first.user as { id: string }).id };
}

describe('cloud function account (built index.js, wx-server-sdk stand-in)', () => {
  it('exports what is stored about the caller, with no secret', async () => {
    const { account, userId, avatarUrl } = await cloudUser('oCloudAccountExport000000001');
    const exported = await account({ action: 'export', userInfo: { appId: APP.appid } }, {});
    expect(exported).toMatchObject({
      ok: true,
      user: { id: userId, nickname: '云端注销', avatarUrl },
      identities: [{ appid: APP.appid, openid: 'oCloudAccountExport000000001' }],
      rewards: [{ kind: 'welcome' }],
      sessions: [],
    });
    expect(JSON.stringify(exported)).not.toMatch(/session_?key|secretHash/i);
  });

  it('deletes after the cooling-off period, tells each login, and cancels only when asked', async () => {
    const { account, login } = await cloudUser('oCloudAccountDelete000000001');
    const deleted = await account({ action: 'delete' }, {});
    expect(deleted).toMatchObject({
      ok: true,
      deletion: { requestedAt: expect.any(String) as unknown },
    });
    const { requestedAt, deleteAt } = deleted.deletion as { requestedAt: string; deleteAt: string };
    expect(Date.parse(deleteAt) - Date.parse(requestedAt)).toBe(7 * DAY);
    // A login during the cooling-off period says so and cancels nothing.
    expect(await login({}, {})).toMatchObject({ ok: true, deletion: { deleteAt } });
    const cancelled = await account({ action: 'cancel' }, {});
    expect(cancelled).toMatchObject({ ok: true });
    expect(cancelled.user).not.toHaveProperty('deletion');
    expect(await account({ action: 'cancel' }, {})).toMatchObject({
      ok: false,
      error: { code: 'deletion_not_pending' },
    });
  });

  it('the timer trigger erases due accounts, their cloud avatar included', async () => {
    const openid = 'oCloudAccountErase0000000001';
    const { account, login, userId, avatarUrl } = await cloudUser(openid);
    expect(await account({ action: 'delete' }, {})).toMatchObject({ ok: true });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 7 * DAY + 60_000);
    // A timer trigger runs in the function's environment, with no caller.
    setCaller(undefined);
    const swept = await account(
      { Type: 'timer', TriggerName: 'eraseDueAccounts', Time: new Date().toISOString() },
      {},
    );
    expect(swept).toMatchObject({ ok: true });
    expect(swept.erased as number).toBeGreaterThanOrEqual(1);
    for (const name of ['users', 'identities', 'rewards', 'consents'])
      expect(JSON.stringify(harness.database.dump(name, { env: CLOUD_ENV }) ?? [])).not.toContain(
        userId,
      );
    expect(harness.deletedFiles()).toContain(avatarUrl);
    setCaller({ openid });
    expect(await login({}, {})).toMatchObject({ ok: true, isNewUser: true });
  });

  it('refuses a client that sends a timer event: only the trigger starts the sweep', async () => {
    const openid = 'oCloudAccountForgedTimer0001';
    const { account, userId } = await cloudUser(openid);
    expect(await account({ action: 'delete' }, {})).toMatchObject({ ok: true });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 7 * DAY + 60_000);
    const timer = {
      Type: 'timer',
      TriggerName: 'eraseDueAccounts',
      Time: new Date().toISOString(),
    };
    // From the mini-program: SOURCE names the client...
    expect(await account(timer, {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    // ...and the platform's userInfo in the event gives it away on its own.
    setCaller(undefined);
    expect(
      await account({ ...timer, userInfo: { appId: APP.appid, openId: openid } }, {}),
    ).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(JSON.stringify(harness.database.dump('users', { env: CLOUD_ENV }))).toContain(userId);
  });

  it('records the privacy consent, and refuses a bad action or a call from nowhere', async () => {
    const { account } = await cloudUser('oCloudAccountConsent00000001');
    const agreedAt = new Date().toISOString();
    expect(
      await account({ action: 'consent', kind: 'privacy', version: 'v2', agreedAt }, {}),
    ).toMatchObject({ ok: true, consent: { kind: 'privacy', version: 'v2', agreedAt } });
    expect(await account({ action: 'consent', kind: 'privacy', version: 'v2' }, {})).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(await account({ action: 'drop tables' }, {})).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    setCaller(undefined);
    expect(await account({ action: 'export' }, {})).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
  });
});
