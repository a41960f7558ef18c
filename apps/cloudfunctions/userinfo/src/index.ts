/**
 * Cloud function `userinfo`: saves { nickname, avatarUrl } (chooseAvatar + nickname input), or the
 * profile behind a CloudID sent as `{ cloudID: wx.cloud.CloudID(res.cloudID) }`, which the
 * platform replaces with `{ cloudID, data }` (or `{ cloudID, errCode, errMsg }`) before main runs.
 * @see https://developers.weixin.qq.com/miniprogram/dev/wxcloudservice/wxcloud/reference-sdk-api/open/Cloud.CloudID.html
 */
import {
  WechatAuthError,
  loginWithIdentity,
  saveOpenDataProfile,
  updateProfile,
} from '@wxlogin/wechat-core';
import {
  callerIdentity,
  cloudDeps,
  eventObject,
  initCloud,
  respond,
  withStore,
} from '@wxlogin/cloud-runtime';

initCloud();

/** The open data a resolved CloudID carries, checked; undefined when the event has no CloudID. */
function openData(
  event: Record<string, unknown>,
  appid: string,
): Record<string, unknown> | undefined {
  if (!('cloudID' in event)) return undefined;
  const resolved = event.cloudID;
  if (typeof resolved === 'string') {
    throw new WechatAuthError(
      'bad_request',
      'send the cloudID wrapped: { cloudID: wx.cloud.CloudID(id) }',
    );
  }
  const open = resolved as { errCode?: unknown; data?: Record<string, unknown> } | null;
  if (!open || typeof open !== 'object' || open.errCode !== undefined || !open.data) {
    throw new WechatAuthError('invalid_encrypted_data', 'the cloudID is invalid or expired');
  }
  const watermark = open.data.watermark as { appid?: unknown } | undefined;
  if (watermark?.appid !== appid) {
    throw new WechatAuthError('invalid_encrypted_data', 'the open data was issued for another app');
  }
  return open.data;
}

export async function main(event: unknown, _context: unknown) {
  return respond(async () => {
    const caller = callerIdentity();
    const own = eventObject(event);
    const fromCloudId = openData(own, caller.appid);
    return withStore(async (store) => {
      const deps = cloudDeps(store);
      const { user } = await loginWithIdentity(caller, deps);
      const session = { userId: user.id, appid: caller.appid };
      // Legacy data as the platform resolved it (anonymous placeholders are left out). A client
      // can write `{ cloudID: { data } }` itself, so it is screened like typed input.
      if (fromCloudId) return saveOpenDataProfile(fromCloudId, session, deps, { unproven: true });
      // An avatar uploaded with wx.cloud.uploadFile arrives as a file ID of this environment, in
      // the user's own folder avatars/<userId>/; a new one waits for WeChat's image check.
      return updateProfile(own, session, deps, { cloudEnv: caller.env });
    });
  });
}
