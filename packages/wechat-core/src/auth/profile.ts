/**
 * updateProfile: the current way (nickname from <input type="nickname">, avatar from chooseAvatar)
 * or the legacy getUserInfo payload, decrypted with the session_key stored at login.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/userProfile.html
 */
import { WechatAuthError } from '../errors.js';
import { decryptOpenData, verifyRawDataSignature } from '../crypto/open-data.js';
import type { UserProfile, UserRecord } from '../store/types.js';
import { loadUser, userGone } from './account.js';
import type { AuthDeps } from './deps.js';
import { type PublicUser, toPublicUser } from './public-user.js';
import { avatarIdOf, cloudAvatarFolder, isOwnCloudAvatar } from './avatar.js';
import { dropPendingAvatar, screenText, submitCloudAvatar } from './content.js';
import { cleanNickname } from './nickname.js';
import { CLOUD_FILE_ID, parseInput, profileInput } from './schemas.js';
import type { CallerContext } from './sessions.js';

/**
 * Since 2022-11-09 the legacy getUserInfo/getUserProfile answer anonymous data: the nickname
 * "微信用户" and a grey default avatar (小程序用户头像昵称获取规则调整公告). Storing them would
 * overwrite what the user chose with a placeholder.
 * @see https://developers.weixin.qq.com/community/develop/doc/00022c683e8a80b29bed2142b56c01
 */
const ANONYMOUS_NICKNAME = '微信用户';
const ANONYMOUS_AVATAR =
  /^https?:\/\/thirdwx\.qlogo\.cn\/mmopen\/vi_32\/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg\/\d+$/;

/** WeChat's own avatar hosts (legacy userInfo avatars). */
const WECHAT_AVATAR_HOST = /^https:\/\/(thirdwx|wx)\.qlogo\.cn\//;

/**
 * The profile fields worth keeping from a legacy userInfo (decrypted, or resolved from a
 * CloudID): a real nickname and an http(s) avatar, never the anonymous placeholders.
 */
function profileFromUserInfo(data: Record<string, unknown>): UserProfile {
  const nickname = cleanNickname(data.nickName);
  const avatar = typeof data.avatarUrl === 'string' ? data.avatarUrl : '';
  return {
    ...(nickname && nickname !== ANONYMOUS_NICKNAME ? { nickname } : {}),
    ...(/^https?:\/\//.test(avatar) && !ANONYMOUS_AVATAR.test(avatar) ? { avatarUrl: avatar } : {}),
  };
}

/** The stored session_key of the caller in this app; stale when there is none to use. */
async function sessionKeyOf(caller: CallerContext, deps: Pick<AuthDeps, 'store'>): Promise<string> {
  const identity = await deps.store.users.findIdentityOfUser(caller.userId, caller.appid);
  if (!identity?.sessionKey) {
    throw new WechatAuthError(
      'session_key_stale',
      'no session_key on file: call wx.login again, then resend',
    );
  }
  return identity.sessionKey;
}

/** Decrypts open data the caller's client sent, with the session_key stored at their login. */
export async function decryptCallerOpenData(
  caller: CallerContext,
  payload: { encryptedData: string; iv: string },
  deps: Pick<AuthDeps, 'store'>,
): Promise<{ data: Record<string, unknown>; sessionKey: string }> {
  const sessionKey = await sessionKeyOf(caller, deps);
  const data = decryptOpenData({
    sessionKey,
    encryptedData: payload.encryptedData,
    iv: payload.iv,
    appid: caller.appid,
  });
  return { data, sessionKey };
}

export interface ProfileOptions {
  /**
   * The cloud environment the call runs in (cloud functions only): a `cloud://` avatar file ID is
   * accepted only from this environment, and nothing else (no http link). Absent (the HTTP
   * server), no cloud file ID is accepted.
   */
  cloudEnv?: string | undefined;
  /**
   * The self-hosted server's origins: an http(s) avatar must then be `<origin>/avatars/<id>` of an
   * avatar this server stores (what POST /avatar answered), never an outside link or a device's
   * temporary path. Absent, any http(s) link is accepted (library use).
   */
  avatarOrigins?: readonly string[];
}

/**
 * Which avatars a profile may hold: a cloud file ID of the caller's own environment (cloud), or
 * one of this server's stored avatars at one of its origins (self-hosted); nothing else.
 */
async function checkAvatar(
  avatarUrl: string,
  userId: string,
  options: ProfileOptions,
  /** The caller's record, read once per request (null: gone). */
  current: () => Promise<UserRecord | null>,
  deps: Pick<AuthDeps, 'store'>,
): Promise<void> {
  const cloudEnv = CLOUD_FILE_ID.exec(avatarUrl)?.[1];
  if (cloudEnv !== undefined) {
    if (!options.cloudEnv) {
      throw new WechatAuthError(
        'bad_request',
        'avatarUrl: a cloud:// file ID is accepted only by the cloud functions; upload with POST /avatar',
      );
    }
    if (cloudEnv !== options.cloudEnv) {
      throw new WechatAuthError(
        'bad_request',
        'avatarUrl: the cloud file belongs to another cloud environment',
      );
    }
    // Another user's file (or any file of the app) is not theirs to show, nor to have deleted.
    if (
      !isOwnCloudAvatar(avatarUrl, userId) &&
      (await current())?.profile.avatarUrl !== avatarUrl
    ) {
      throw new WechatAuthError(
        'bad_request',
        `avatarUrl: upload the avatar to the user's own folder, ${cloudAvatarFolder('<user id>')}<name>`,
      );
    }
    return;
  }
  if (options.cloudEnv) {
    throw new WechatAuthError(
      'bad_request',
      'avatarUrl: upload the avatar with wx.cloud.uploadFile and send the fileID it answered',
    );
  }
  if (!options.avatarOrigins) return;
  const id = avatarIdOf(avatarUrl);
  const own =
    id !== undefined &&
    options.avatarOrigins.includes(new URL(avatarUrl).origin) &&
    (await deps.store.avatars.find(id)) !== null;
  if (!own) {
    throw new WechatAuthError(
      'bad_request',
      'avatarUrl: upload the avatar with POST /avatar and send the URL it answered',
    );
  }
  // Another user's upload is theirs to replace (and to have deleted): not a profile picture here.
  const owner = await deps.store.avatars.owner(id);
  if (owner !== undefined && owner !== userId) {
    throw new WechatAuthError('bad_request', "avatarUrl: that avatar is another user's upload");
  }
}

export async function updateProfile(
  input: unknown,
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now' | 'content' | 'log' | 'cloudFiles'>,
  options: ProfileOptions = {},
): Promise<{ user: PublicUser }> {
  const parsed = parseInput(profileInput, input);
  let read: Promise<UserRecord | null> | undefined;
  const current = () => (read ??= deps.store.users.findUser(caller.userId));
  if ('avatarUrl' in parsed && parsed.avatarUrl !== undefined) {
    await checkAvatar(parsed.avatarUrl, caller.userId, options, current, deps);
  }
  // A nickname the user typed is checked before anything is stored (WeChat's own nicknames, from
  // the legacy payload, are not: WeChat vouches for them).
  if ('nickname' in parsed && parsed.nickname !== undefined)
    await screenText('nickname', parsed.nickname, caller, deps);
  // A new cloud avatar waits for WeChat's image check (the one on the profile is left alone);
  // `pending` is the user record as that left it.
  let pending: UserRecord | undefined;
  if (
    'avatarUrl' in parsed &&
    parsed.avatarUrl !== undefined &&
    options.cloudEnv !== undefined &&
    deps.content &&
    deps.cloudFiles
  ) {
    const user = await current();
    if (!user) throw userGone();
    if (parsed.avatarUrl !== user.profile.avatarUrl)
      pending = await submitCloudAvatar(parsed.avatarUrl, caller, user, deps);
  }
  if ('encryptedData' in parsed) {
    // Decrypt first: a stale key fails here as session_key_stale, before the signature check
    // would misreport it as tampering.
    const { data, sessionKey } = await decryptCallerOpenData(caller, parsed, deps);
    if (parsed.rawData !== undefined && parsed.signature !== undefined) {
      if (!verifyRawDataSignature(parsed.rawData, parsed.signature, sessionKey)) {
        throw new WechatAuthError('invalid_encrypted_data', 'rawData signature does not match');
      }
    }
    return saveOpenDataProfile(data, caller, deps);
  }
  const profile: UserProfile = {
    ...(parsed.nickname !== undefined ? { nickname: parsed.nickname } : {}),
    ...(parsed.avatarUrl !== undefined && !pending ? { avatarUrl: parsed.avatarUrl } : {}),
  };
  return saveProfile(profile, caller, deps, pending);
}

/**
 * The legacy userInfo WeChat vouched for (decrypted here, or resolved from a CloudID in the
 * cloud): what is worth keeping of it (profileFromUserInfo) is saved; anonymous data changes
 * nothing and answers the user as is. `unproven`: nothing shows the data came from WeChat (a
 * CloudID's data arrives in the event, which a client can write itself), so its nickname is
 * screened like a typed one and only an avatar on WeChat's own hosts is kept.
 */
export async function saveOpenDataProfile(
  data: Record<string, unknown>,
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now' | 'content' | 'cloudFiles' | 'log'>,
  options: { unproven?: boolean } = {},
): Promise<{ user: PublicUser }> {
  const { avatarUrl, ...rest } = profileFromUserInfo(data);
  // Unproven, only an avatar WeChat itself hosts is kept (its legacy avatars are on qlogo.cn).
  const profile: UserProfile = {
    ...rest,
    ...(avatarUrl !== undefined && (!options.unproven || WECHAT_AVATAR_HOST.test(avatarUrl))
      ? { avatarUrl }
      : {}),
  };
  if (options.unproven && profile.nickname !== undefined)
    await screenText('nickname', profile.nickname, caller, deps);
  return saveProfile(profile, caller, deps);
}

async function saveProfile(
  profile: UserProfile,
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now' | 'cloudFiles' | 'log'>,
  /** The record as the request already has it, answered when there is nothing to save. */
  unchanged?: UserRecord,
): Promise<{ user: PublicUser }> {
  let user =
    Object.keys(profile).length > 0
      ? await deps.store.users.updateProfile(caller.userId, profile, deps.now())
      : (unchanged ?? (await loadUser(caller.userId, deps)));
  if (!user) throw userGone();
  // An avatar chosen now wins over one still awaiting its image check.
  if (profile.avatarUrl !== undefined) user = await dropPendingAvatar(user, deps);
  return { user: toPublicUser(user) };
}
