/**
 * Cloud mode end to end, as the profile page drives it: the client's AuthService over its
 * CloudTransport calls the built cloud functions (the folders DevTools uploads) next to the
 * wx-server-sdk stand-in; the chosen avatar goes to "cloud storage" (wx.cloud.uploadFile answers
 * a file ID of this environment), and that file ID travels through the userinfo function to
 * WeChat's image check, whose verdict (routed to the mediacheck function) puts it on the profile
 * in the environment's cloud database.
 */
import { describe, expect, it } from 'vitest';
import {
  APP,
  CLOUD_ENV,
  type CloudMain,
  setCaller,
  useCloudHarness,
} from '../../cloudfunctions/shared/test-support/harness.js';
import { AuthService } from '../miniprogram/services/auth.js';
import { CloudTransport } from '../miniprogram/services/transport.js';
import type { WxCloudApi } from '../miniprogram/services/wx-api.js';
import { WxStandin } from './wx-standin.js';

const harness = useCloudHarness();

describe('cloud mode, client to cloud database', () => {
  it("stores the uploaded avatar's file ID through the built userinfo function", async () => {
    const functions: Record<string, CloudMain> = {
      login: await harness.load('login'),
      userinfo: await harness.load('userinfo'),
      account: await harness.load('account'),
    };
    const mediacheck = await harness.load('mediacheck');
    // The user opened the mini-program (WeChat's content check of the nickname needs that).
    await harness.visit('oCloudEndToEnd00000000000001');
    setCaller({ openid: 'oCloudEndToEnd00000000000001', appid: APP.appid });
    const uploads: string[] = [];
    const cloud: WxCloudApi = {
      callFunction: async ({ name, data }) => {
        const main = functions[name];
        if (!main) throw new Error(`no cloud function ${name}`);
        return { result: await main(data ?? {}, {}) };
      },
      // What wx.cloud.uploadFile answers: cloud://<env>.<bucket>/<cloudPath>.
      uploadFile: ({ cloudPath }) => {
        uploads.push(cloudPath);
        const fileID = `cloud://${CLOUD_ENV}.7465-${CLOUD_ENV}-1250000000/${cloudPath}`;
        harness.putFile(fileID);
        return Promise.resolve({ fileID });
      },
      CloudID: (cloudID) => ({ cloudID }),
    };
    const wx = new WxStandin(() => Promise.reject(new Error('no wx.request in cloud mode')));
    wx.appid = APP.appid;
    const auth = new AuthService(wx, new CloudTransport(cloud));
    await auth.ensureLoggedIn();

    // The profile page's save: upload the chosen temporary file, then save its URL.
    const avatarUrl = await auth.uploadAvatar('wxfile://tmp_chosen_avatar.png');
    expect(uploads).toHaveLength(1);
    // Into the user's own folder, the only one the userinfo function takes avatars from.
    expect(uploads[0]).toMatch(new RegExp(`^avatars/${auth.user?.id ?? 'missing'}/[\\w.-]+$`));
    const { user } = await auth.request('userinfo', { nickname: '云端用户', avatarUrl });
    // The avatar waits for WeChat's image check; its owner is shown it meanwhile.
    expect(user).toMatchObject({ nickname: '云端用户', avatarPending: avatarUrl });
    expect(user).not.toHaveProperty('avatarUrl');
    // WeChat's verdict, routed to the mediacheck function, puts it on the profile.
    expect(await harness.routeMediaChecks(mediacheck)).toEqual(['success']);
    setCaller({ openid: 'oCloudEndToEnd00000000000001', appid: APP.appid });
    expect((await auth.request('me', undefined)).user).toMatchObject({ avatarUrl });

    const stored = harness.database.dump('users', { env: CLOUD_ENV }) ?? [];
    expect(stored.find((doc) => doc._id === user.id)?.profile).toEqual({
      nickname: '云端用户',
      avatarUrl,
    });

    // 账号与安全 over the account function: a copy, a deletion, its cancel; no device list.
    const copy = await auth.request('exportData', undefined);
    expect(copy.user).toMatchObject({ id: user.id, nickname: '云端用户' });
    const { deletion } = await auth.request('deleteAccount', undefined);
    expect(Date.parse(deletion.deleteAt)).toBeGreaterThan(Date.now());
    const cancelled = await auth.request('cancelDeletion', undefined);
    expect(cancelled.user).not.toHaveProperty('deletion');
    await expect(auth.request('sessions', undefined)).rejects.toMatchObject({ code: 'not_found' });
  });
});
