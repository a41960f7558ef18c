import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  APP,
  CLOUD_ENV,
  type CloudMain,
  cloudAvatarFile,
  setCaller,
  useCloudHarness,
} from '../../shared/test-support/harness.js';

const harness = useCloudHarness();
afterEach(async () => {
  setCaller(undefined);
  vi.useRealTimers();
  await harness.emulator.control.queueMediaVerdicts([]);
});

interface Functions {
  userinfo: CloudMain;
  login: CloudMain;
  mediacheck: CloudMain;
}

async function functions(): Promise<Functions> {
  const [userinfo, login, mediacheck] = await Promise.all([
    harness.load('userinfo'),
    harness.load('login'),
    harness.load('mediacheck'),
  ]);
  return { userinfo, login, mediacheck };
}

/** The user as the cloud database holds it. */
function stored(userId: string) {
  const users = harness.database.dump('users', { env: CLOUD_ENV }) ?? [];
  return users.find((doc) => doc._id === userId) as
    | { profile: { avatarUrl?: string }; pendingAvatar?: { fileId: string; traceId: string } }
    | undefined;
}

/** The user's id (a login of theirs). */
async function userIdOf(f: Functions, openid: string): Promise<string> {
  setCaller({ openid });
  return ((await f.login({}, {})).user as { id: string }).id;
}

/** The user uploads `name` to their folder (wx.cloud.uploadFile) and saves it as their avatar. */
async function saveAvatar(f: Functions, openid: string, name: string) {
  const userId = await userIdOf(f, openid);
  const fileId = cloudAvatarFile(userId, name);
  harness.putFile(fileId);
  setCaller({ openid });
  const answer = await f.userinfo({ avatarUrl: fileId }, {});
  return { fileId, answer, userId };
}

describe('cloud function mediacheck (built index.js, wx-server-sdk stand-in)', () => {
  it("puts an avatar on the profile only once WeChat's image check says pass, once", async () => {
    const f = await functions();
    const openid = 'oCloudMediaPass0000000000001';
    await harness.visit(openid);
    const { fileId, answer, userId } = await saveAvatar(f, openid, 'pass.png');
    // Saved, not shown: the owner sees it as pending, the profile has no avatar yet.
    expect(answer).toMatchObject({ ok: true, user: { avatarPending: fileId } });
    expect(answer.user).not.toHaveProperty('avatarUrl');
    expect(stored(userId)?.profile.avatarUrl).toBeUndefined();
    // WeChat got a link it can download, not the cloud:// ID, and downloaded the image.
    const { checks } = await harness.emulator.control.mediaChecks();
    const check = checks.find((c) => c.openid === openid);
    expect(check?.mediaUrl).toMatch(/^https?:\/\//);
    expect(check?.downloadStatus).toBe(200);

    expect(await harness.routeMediaChecks(f.mediacheck)).toEqual(['success']);
    expect(stored(userId)?.profile.avatarUrl).toBe(fileId);
    expect(stored(userId)?.pendingAvatar).toBeUndefined();
    setCaller({ openid });
    const login = await f.login({}, {});
    expect(login.user).toMatchObject({ avatarUrl: fileId });
    expect(login.user).not.toHaveProperty('avatarPending');

    // WeChat delivering the same verdict again changes nothing, and deletes nothing.
    setCaller(undefined);
    expect(await f.mediacheck(check?.event, {})).toBe('success');
    expect(stored(userId)?.profile.avatarUrl).toBe(fileId);
    expect(harness.hasFile(fileId)).toBe(true);
  });

  it('deletes a risky image and keeps the avatar the profile had; review leaves it pending', async () => {
    const f = await functions();
    const openid = 'oCloudMediaRisky000000000001';
    await harness.visit(openid);
    const first = await saveAvatar(f, openid, 'first.png');
    await harness.routeMediaChecks(f.mediacheck);
    expect(stored(first.userId)?.profile.avatarUrl).toBe(first.fileId);

    await harness.emulator.control.queueMediaVerdicts(['risky']);
    const risky = await saveAvatar(f, openid, 'risky.png');
    expect(await harness.routeMediaChecks(f.mediacheck)).toEqual(['success']);
    expect(harness.hasFile(risky.fileId)).toBe(false);
    expect(harness.deletedFiles()).toContain(risky.fileId);
    expect(stored(first.userId)?.profile.avatarUrl).toBe(first.fileId);
    expect(stored(first.userId)?.pendingAvatar).toBeUndefined();

    await harness.emulator.control.queueMediaVerdicts(['review']);
    const review = await saveAvatar(f, openid, 'review.png');
    await harness.routeMediaChecks(f.mediacheck);
    expect(stored(first.userId)?.pendingAvatar?.fileId).toBe(review.fileId);
    expect(stored(first.userId)?.profile.avatarUrl).toBe(first.fileId);
    expect(harness.hasFile(review.fileId)).toBe(true);

    // A newer upload replaces the one still pending, whose file goes.
    const newer = await saveAvatar(f, openid, 'newer.png');
    expect(newer.answer).toMatchObject({ ok: true, user: { avatarPending: newer.fileId } });
    expect(harness.hasFile(review.fileId)).toBe(false);
    await harness.routeMediaChecks(f.mediacheck);
    expect(stored(first.userId)?.profile.avatarUrl).toBe(newer.fileId);
    // The avatar it replaced on the profile is deleted; the new one stays.
    expect(harness.hasFile(first.fileId)).toBe(false);
    expect(harness.hasFile(newer.fileId)).toBe(true);
  });

  it('saving the current avatar again drops one still pending, so its verdict changes nothing', async () => {
    const f = await functions();
    const openid = 'oCloudMediaSameAgain00000001';
    await harness.visit(openid);
    const current = await saveAvatar(f, openid, 'current.png');
    await harness.routeMediaChecks(f.mediacheck);
    const pending = await saveAvatar(f, openid, 'pending.png');
    expect(pending.answer).toMatchObject({ user: { avatarPending: pending.fileId } });
    // The user goes back to the avatar they have.
    setCaller({ openid });
    const back = await f.userinfo({ avatarUrl: current.fileId }, {});
    expect(back).toMatchObject({ ok: true, user: { avatarUrl: current.fileId } });
    expect(back.user).not.toHaveProperty('avatarPending');
    expect(harness.hasFile(pending.fileId)).toBe(false);
    // The dropped check's pass arrives: the profile keeps what the user chose last.
    await harness.routeMediaChecks(f.mediacheck);
    expect(stored(current.userId)?.profile.avatarUrl).toBe(current.fileId);
    expect(harness.hasFile(current.fileId)).toBe(true);
  });

  it('refuses a file ID with no file behind it, and a call from the mini-program', async () => {
    const f = await functions();
    const openid = 'oCloudMediaRefuse00000000001';
    await harness.visit(openid);
    setCaller({ openid });
    const missing = cloudAvatarFile(await userIdOf(f, openid), 'never-uploaded.png');
    setCaller({ openid });
    expect(await f.userinfo({ nickname: '无图', avatarUrl: missing }, {})).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringContaining('no such file') as unknown },
    });
    expect(JSON.stringify(harness.database.dump('users', { env: CLOUD_ENV }))).not.toContain(
      '无图',
    );

    // Someone forging the verdict of their own pending image from the client.
    const { userId, fileId } = await saveAvatar(f, openid, 'forged.png');
    const traceId = stored(userId)?.pendingAvatar?.traceId;
    const forged = {
      MsgType: 'event',
      Event: 'wxa_media_check',
      appid: APP.appid,
      trace_id: traceId,
      version: 2,
      errcode: 0,
      result: { suggest: 'pass', label: 100 },
    };
    setCaller({ openid });
    expect(
      await f.mediacheck({ ...forged, userInfo: { appId: APP.appid, openId: openid } }, {}),
    ).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    // Either sign alone gives it away: the platform's userInfo key...
    setCaller(undefined);
    expect(
      await f.mediacheck({ ...forged, userInfo: { appId: APP.appid, openId: openid } }, {}),
    ).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    // ...or the invocation's source.
    setCaller({ openid });
    expect(await f.mediacheck(forged, {})).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
    expect(stored(userId)?.profile.avatarUrl).toBeUndefined();
    expect(stored(userId)?.pendingAvatar?.fileId).toBe(fileId);
    // Another pushed event, or one for no pending image, is acknowledged and ignored.
    setCaller(undefined);
    expect(await f.mediacheck({ MsgType: 'event', Event: 'user_enter_tempsession' }, {})).toBe(
      'success',
    );
    expect(await f.mediacheck({ ...forged, trace_id: 'no-such-trace' }, {})).toBe('success');
  });

  it('an erased account takes its pending avatar file with it', async () => {
    const f = await functions();
    const account = await harness.load('account');
    const openid = 'oCloudMediaErase000000000001';
    await harness.visit(openid);
    await harness.emulator.control.queueMediaVerdicts(['review']);
    const { fileId, userId } = await saveAvatar(f, openid, 'erase.png');
    await harness.routeMediaChecks(f.mediacheck);
    expect(stored(userId)?.pendingAvatar?.fileId).toBe(fileId);
    setCaller({ openid });
    expect(await account({ action: 'delete' }, {})).toMatchObject({ ok: true });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 8 * 24 * 3600_000);
    setCaller(undefined);
    expect(await account({ Type: 'timer', TriggerName: 'eraseDueAccounts' }, {})).toMatchObject({
      ok: true,
    });
    expect(stored(userId)).toBeUndefined();
    expect(harness.deletedFiles()).toContain(fileId);
    expect(harness.hasFile(fileId)).toBe(false);
  });
});
