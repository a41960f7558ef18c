/**
 * uploadAvatar: the chooseAvatar button hands the client a temporary file that only that phone can
 * read, so it is uploaded and kept here under a random id. The type is read from the bytes, never
 * from the declared content-type; anything but JPEG, PNG, GIF or WebP up to 2 MiB is refused.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/userProfile.html
 */
import { WechatAuthError } from '../errors.js';
import { isRecordId, newRecordId } from '../crypto/random.js';
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
export function sniffImageType(bytes: Uint8Array): string | undefined {
  return SIGNATURES.find((s) => s.matches(bytes))?.type;
}

/** Avatar ids are record ids: 22 base64url characters. */
export const isAvatarId = isRecordId;

export async function uploadAvatar(
  upload: { bytes: Uint8Array; declaredType: string },
  _caller: CallerContext,
  deps: Pick<AuthDeps, 'store'>,
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
  const contentType = sniffImageType(upload.bytes);
  if (!contentType)
    throw new WechatAuthError('bad_request', 'avatar is not a JPEG, PNG, GIF or WebP image');
  const id = newRecordId();
  await deps.store.avatars.save(id, { bytes: upload.bytes, contentType });
  return { id, contentType };
}
