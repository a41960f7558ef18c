import { afterEach, describe, expect, it } from 'vitest';
import {
  APP,
  CLOUD_ENV,
  cloudAvatarFile,
  setCaller,
  useCloudHarness,
} from '../../shared/test-support/harness.js';

const harness = useCloudHarness();
afterEach(() => setCaller(undefined));

/** The caller (who opened the mini-program just now) logged in: their user id. */
async function loggedIn(openid: string): Promise<string> {
  await harness.visit(openid);
  setCaller({ openid });
  const answer = await (await harness.load('login'))({}, {});
  return (answer.user as { id: string }).id;
}

/** What the platform puts in event.cloudID for `{ cloudID: wx.cloud.CloudID(id) }`. */
function resolvedCloudId(data: Record<string, unknown>) {
  return { cloudID: '27_Ih-9vxDaOhIbh48Bdpk90DUkU', data };
}

describe('cloud function userinfo (built index.js, wx-server-sdk stand-in)', () => {
  it('saves nickname and avatar, ignoring the userInfo key the platform adds', async () => {
    const main = await harness.load('userinfo');
    const fileId = cloudAvatarFile(await loggedIn('oCloudUserinfo00000000000001'), 'c.png');
    harness.putFile(fileId);
    const result = await main(
      { nickname: '云端用户', avatarUrl: fileId, userInfo: { appId: APP.appid, openId: 'x' } },
      {},
    );
    // The avatar awaits WeChat's image check (see the mediacheck function's tests).
    expect(result).toMatchObject({
      ok: true,
      user: { nickname: '云端用户', avatarPending: fileId },
    });
  });

  it('checks a nickname with security.msgSecCheck first: risky is content_rejected, nothing stored', async () => {
    const main = await harness.load('userinfo');
    const openid = 'oCloudUserinfoRisky000000001';
    await harness.visit(openid);
    setCaller({ openid });
    await harness.emulator.control.setContentRules({ risky: ['违禁'] });
    try {
      expect(await main({ nickname: '违禁昵称' }, {})).toMatchObject({
        ok: false,
        error: { code: 'content_rejected' },
      });
      const users = harness.database.dump('users', { env: CLOUD_ENV }) ?? [];
      expect(JSON.stringify(users)).not.toContain('违禁昵称');
      expect(await harness.emulator.control.callCount('/wxa/msg_sec_check')).toBeGreaterThan(0);
      // WeChat down during the check: the nickname is not stored either.
      await harness.emulator.control.injectFault({
        path: '/wxa/msg_sec_check',
        kind: 'http_500',
        times: 'always',
      });
      expect(await main({ nickname: '平常的名字' }, {})).toMatchObject({
        ok: false,
        error: { code: 'wechat_unavailable' },
      });
    } finally {
      await harness.emulator.control.clearFaults();
      await harness.emulator.control.setContentRules({});
    }
  });

  it("submits an avatar uploaded to this environment's cloud storage to WeChat's image check", async () => {
    const main = await harness.load('userinfo');
    const fileId = cloudAvatarFile(await loggedIn('oCloudUserinfoAvatar00000001'), '1.png');
    harness.putFile(fileId);
    expect(await main({ avatarUrl: fileId }, {})).toMatchObject({
      ok: true,
      user: { avatarPending: fileId },
    });
    // Pending on the user in this environment's database, under the check's trace id.
    const users = harness.database.dump('users', { env: CLOUD_ENV }) ?? [];
    const user = users.find(
      (u) => (u.pendingAvatar as { fileId?: string } | undefined)?.fileId === fileId,
    );
    const { checks } = await harness.emulator.control.mediaChecks();
    expect(checks.map((c) => c.traceId)).toContain(
      (user?.pendingAvatar as { traceId?: string } | undefined)?.traceId,
    );
  });

  it('needs security.mediaCheckAsync in config.json: the cloud refuses undeclared APIs', async () => {
    const main = await harness.load('userinfo', {
      config: { permissions: { openapi: ['security.msgSecCheck'] } },
    });
    const fileId = cloudAvatarFile(await loggedIn('oCloudUserinfoNoPermission01'), '2.png');
    harness.putFile(fileId);
    expect(await main({ avatarUrl: fileId }, {})).toMatchObject({
      ok: false,
      error: { code: 'wechat_unavailable' },
    });
  });

  it.each([
    ['another environment', 'cloud://other-env-9z9z.7465-other-env-9z9z-1250000000/a.png'],
    ['no path', `cloud://${CLOUD_ENV}.7465-bucket`],
    ['a device temp path', 'wxfile://tmp_a1b2c3.png'],
    ['an outside link', 'https://example.com/c.png'],
    ["DevTools' temp URL", 'http://tmp/a1b2c3.png'],
    ["another user's folder", cloudAvatarFile('AnotherUsersId00000000', 'a.png')],
    ['no user folder', `cloud://${CLOUD_ENV}.7465-${CLOUD_ENV}-1250000000/avatars/a.png`],
    ['a way out of the folder', cloudAvatarFile('<self>', '../AnotherUsersId00000000/a.png')],
    ['the folder itself', cloudAvatarFile('<self>', '..')],
  ])('refuses an avatar file ID of %s', async (_what, given) => {
    const main = await harness.load('userinfo');
    const self = await loggedIn('oCloudUserinfoAvatar00000002');
    const avatarUrl = given.replace('<self>', self);
    harness.putFile(avatarUrl);
    expect(await main({ avatarUrl }, {})).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });

  it("never overwrites the profile with today's anonymous CloudID data (微信用户, grey avatar)", async () => {
    const main = await harness.load('userinfo');
    await harness.visit('oCloudUserinfoAnonymous00001');
    setCaller({ openid: 'oCloudUserinfoAnonymous00001' });
    await main({ nickname: '自己起的名字' }, {});
    const anonymous = {
      nickName: '微信用户',
      avatarUrl:
        'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132',
      watermark: { appid: APP.appid, timestamp: 1 },
    };
    const result = await main({ cloudID: resolvedCloudId(anonymous) }, {});
    expect(result).toMatchObject({ ok: true, user: { nickname: '自己起的名字' } });
    expect((result.user as { avatarUrl?: string }).avatarUrl).toBeUndefined();
  });

  it('screens what a CloudID carries, since a client can write that data itself', async () => {
    const main = await harness.load('userinfo');
    const openid = 'oCloudUserinfoForgedCloudID1';
    await harness.visit(openid);
    setCaller({ openid });
    await harness.emulator.control.setContentRules({ risky: ['违禁'] });
    try {
      const forged = (nickName: string, avatarUrl: string) => ({
        cloudID: resolvedCloudId({ nickName, avatarUrl, watermark: { appid: APP.appid } }),
      });
      expect(await main(forged('违禁昵称', 'https://thirdwx.qlogo.cn/a/132'), {})).toMatchObject({
        ok: false,
        error: { code: 'content_rejected' },
      });
      // An avatar not on WeChat's own hosts is left out.
      const result = await main(forged('正常昵称', 'https://example.com/unchecked.png'), {});
      expect(result).toMatchObject({ ok: true, user: { nickname: '正常昵称' } });
      expect(result.user).not.toHaveProperty('avatarUrl');
    } finally {
      await harness.emulator.control.setContentRules({});
    }
  });

  it('saves the profile behind a CloudID the platform resolved', async () => {
    const main = await harness.load('userinfo');
    await harness.visit('oCloudUserinfo00000000000002');
    setCaller({ openid: 'oCloudUserinfo00000000000002' });
    const data = {
      nickName: '开放数据',
      avatarUrl: 'https://thirdwx.qlogo.cn/a/132',
      watermark: { appid: APP.appid, timestamp: 1 },
    };
    expect(await main({ cloudID: resolvedCloudId(data) }, {})).toMatchObject({
      ok: true,
      user: { nickname: '开放数据' },
    });
  });

  it.each([
    [
      'an expired CloudID',
      { cloudID: { cloudID: 'x', errCode: -601006, errMsg: 'cloudID expired.' } },
      'invalid_encrypted_data',
    ],
    [
      'open data of another app',
      {
        cloudID: resolvedCloudId({
          nickName: 'x',
          watermark: { appid: 'wxother000000000', timestamp: 1 },
        }),
      },
      'invalid_encrypted_data',
    ],
    ['a bare CloudID string', { cloudID: '27_abc' }, 'bad_request'],
    ['a blank nickname', { nickname: '  ' }, 'bad_request'],
    ['an unknown field', { nickname: 'ok', isAdmin: true }, 'bad_request'],
    ['a non-object event', 'nickname', 'bad_request'],
  ])('answers %s with %s', async (_name, event, code) => {
    const main = await harness.load('userinfo');
    setCaller({ openid: 'oCloudUserinfo00000000000003' });
    expect(await main(event, {})).toMatchObject({ ok: false, error: { code } });
  });
});
