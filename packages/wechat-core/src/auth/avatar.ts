/**
 * uploadAvatar: the chooseAvatar button hands the client a temporary file that only that phone can
 * read, so it is uploaded and kept here under a random id. The type is read from the bytes, never
 * from the declared content-type; anything but JPEG, PNG, GIF or WebP up to 2 MiB is refused.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/userProfile.html
 */
import { WechatAuthError } from '../errors.js';
import { isRecordId, newRecordId } from '../crypto/random.js';
import { openidOf } from './account.js';
import type { AuthDeps } from './deps.js';
import type { CallerContext } from './sessions.js';

export const AVATAR_MAX_BYTES = 2 * 1024 * 1024;

const SIGNATURES: { type: string; matches: (b: Uint8Array) => boolean }[] = [
  { type: 'image/jpeg', matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    type: 'image/png',
    matches: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v),
  },
  {
    type: 'image/gif',
    matches: (b) => String.fromCharCode(...b.subarray(0, 6)).match(/^GIF8[79]a$/) !== null,
  },
  {
    type: 'image/webp',
    matches: (b) =>
      String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' &&
      String.fromCharCode(...b.subarray(8, 12)) === 'WEBP',
  },
];

/** The image type the bytes really are, or undefined. */
function sniffImageType(bytes: Uint8Array): string | undefined {
  return SIGNATURES.find((s) => s.matches(bytes))?.type;
}

/** Avatar ids are record ids: 22 base64url characters. */
export const isAvatarId = isRecordId;

/** Where this server serves its avatars: `<PUBLIC_URL>/avatars/<id>`. */
export const AVATARS_PATH = '/avatars/';

/**
 * A user's cloud avatars live in their own folder of the environment's storage,
 * `avatars/<userId>/<name>` (what the mini-program's uploadAvatar writes). Cloud storage lets any
 * user create a file anywhere (its default rules only stop overwriting another's), so only a file
 * in the caller's folder may become their avatar, and only such files are ever deleted for them.
 */
export function cloudAvatarFolder(userId: string): string {
  return `avatars/${userId}/`;
}

/** Whether a cloud file ID is a file directly in this user's avatar folder. */
export function isOwnCloudAvatar(fileId: string | undefined, userId: string): boolean {
  const path = fileId === undefined ? undefined : /^cloud:\/\/[^/]+\/(.+)$/.exec(fileId)?.[1];
  const folder = cloudAvatarFolder(userId);
  if (!path?.startsWith(folder)) return false;
  return /^(?!\.+$)[A-Za-z0-9._-]{1,128}$/.test(path.slice(folder.length));
}

/** The id of one of this server's avatars in a URL (`…/avatars/<id>`), or undefined. */
export function avatarIdOf(avatarUrl: string | undefined): string | undefined {
  if (avatarUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(avatarUrl);
  } catch {
    return undefined;
  }
  if (!url.pathname.startsWith(AVATARS_PATH) || url.search !== '') return undefined;
  const id = url.pathname.slice(AVATARS_PATH.length);
  return isAvatarId(id) ? id : undefined;
}

/** Uploads a user keeps besides the one their profile shows; older ones are deleted. */
const AVATAR_HISTORY = 3;

/**
 * Decodes and re-encodes an image (the server's is sharp): strips metadata and anything hidden
 * after or inside the image data, bounds the pixels, resizes to avatar size. Its output is sniffed
 * again; a refusal is a WechatAuthError('bad_request').
 */
export type AvatarReencoder = (
  bytes: Uint8Array,
  contentType: string,
) => Promise<{ bytes: Uint8Array; contentType: string }>;

export interface UploadAvatarOptions {
  reencode?: AvatarReencoder;
  /**
   * Where WeChat's image check downloads an avatar from: the public URL of avatar `id` that
   * also serves it while unchecked, given `checkKey`. With deps.content, the avatar is submitted
   * to mediaCheckAsync and served to others only once it passed.
   */
  checkUrl?: (id: string, checkKey: string) => string;
}

export async function uploadAvatar(
  upload: { bytes: Uint8Array; declaredType: string },
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now' | 'log' | 'content'>,
  options: UploadAvatarOptions = {},
): Promise<{ id: string; contentType: string }> {
  if (!upload.declaredType.startsWith('image/')) {
    throw new WechatAuthError(
      'bad_request',
      `avatar must be an image, got ${upload.declaredType || 'no type'}`,
    );
  }
  if (upload.bytes.length === 0 || upload.bytes.length > AVATAR_MAX_BYTES) {
    throw new WechatAuthError('bad_request', 'avatar must be between 1 byte and 2 MiB');
  }
  const sniffed = sniffImageType(upload.bytes);
  if (!sniffed)
    throw new WechatAuthError('bad_request', 'avatar is not a JPEG, PNG, GIF or WebP image');
  const image = options.reencode
    ? await options.reencode(upload.bytes, sniffed)
    : { bytes: upload.bytes, contentType: sniffed };
  const contentType = sniffImageType(image.bytes);
  if (contentType !== image.contentType)
    throw new WechatAuthError('bad_request', 'avatar could not be re-encoded');
  const id = newRecordId();
  const check = deps.content && options.checkUrl ? { checkKey: newRecordId() } : undefined;
  const openid = check ? await openidOf(caller, deps) : undefined;
  await deps.store.avatars.save(
    id,
    { bytes: image.bytes, contentType, ...(check ? { review: check } : {}) },
    { userId: caller.userId, now: deps.now() },
  );
  if (check && deps.content && options.checkUrl && openid) {
    // Saved first: WeChat downloads the image while answering. A failure here (WeChat down) is
    // the upload's failure, and the image goes: nothing is kept unchecked.
    try {
      const { traceId } = await deps.content.submitImage({
        appid: caller.appid,
        openid,
        mediaUrl: options.checkUrl(id, check.checkKey),
      });
      await deps.store.avatars.setTraceId(id, traceId);
    } catch (error) {
      await deps.store.avatars.delete(id).catch(() => undefined);
      throw error;
    }
  }
  // Bounded storage per user: the newest uploads and the one the profile shows stay. Best effort:
  // the upload is saved and answered either way, and the next upload prunes again.
  try {
    const user = await deps.store.users.findUser(caller.userId);
    const current = avatarIdOf(user?.profile.avatarUrl);
    await deps.store.avatars.prune(caller.userId, AVATAR_HISTORY + 1, current ? [current] : []);
  } catch (error) {
    deps.log?.warn(
      { event: 'avatar_prune_failed', userId: caller.userId, err: error },
      'could not delete replaced avatars; the next upload tries again',
    );
  }
  return { id, contentType };
}
