/**
 * Avatar images decoded and re-encoded with sharp (libvips, prebuilt for Linux, macOS and Windows
 * from the npm registry): what is stored and served is a fresh image of at most AVATAR_SIZE
 * pixels a side, so nothing hidden in the upload survives (a GIF+HTML or PNG+SVG polyglot, EXIF
 * with GPS), and a file claiming huge dimensions is refused from its header before decoding.
 * Opaque images become JPEG, images with transparency PNG: both show in every mini-program
 * `<image>` (WebP needs an attribute there).
 */
import { type AvatarReencoder, WechatAuthError } from '@wxlogin/wechat-core';
import type { Sharp, SharpOptions } from 'sharp';

/** Longest side of a stored avatar, in pixels (WeChat shows avatars at most 132 pt wide). */
export const AVATAR_SIZE = 512;
/** Larger images are refused without being decoded (a 6000×6000 photo is fine). */
export const AVATAR_MAX_INPUT_PIXELS = 40_000_000;

type SharpFactory = (input: Uint8Array, options: SharpOptions) => Sharp;
let loading: Promise<SharpFactory> | undefined;

/**
 * sharp, loaded at the first upload: libvips costs ~90 ms and ~35 MiB of RSS at load, which a
 * server that never sees an avatar should not pay.
 */
function loadSharp(): Promise<SharpFactory> {
  loading ??= import('sharp').then(({ default: sharp }) => {
    // libvips' operation cache keeps decoded images around; avatars are never processed twice.
    sharp.cache(false);
    return sharp;
  });
  return loading;
}

function refuse(message: string): WechatAuthError {
  return new WechatAuthError('bad_request', `avatar: ${message}`);
}

export const reencodeAvatar: AvatarReencoder = async (bytes) => {
  const sharp = await loadSharp();
  const input = sharp(bytes, {
    limitInputPixels: AVATAR_MAX_INPUT_PIXELS,
    failOn: 'error',
    // The first frame of an animation only.
    pages: 1,
  });
  let metadata;
  try {
    metadata = await input.metadata();
  } catch {
    throw refuse('the image cannot be read');
  }
  const { width, height } = metadata;
  if (!width || !height) throw refuse('the image has no size');
  if (width * height > AVATAR_MAX_INPUT_PIXELS)
    throw refuse(`${width}×${height} is too large (at most ${AVATAR_MAX_INPUT_PIXELS} pixels)`);
  try {
    const pipeline = input
      .rotate() // apply the EXIF orientation before the metadata goes
      .resize(AVATAR_SIZE, AVATAR_SIZE, { fit: 'inside', withoutEnlargement: true });
    if (metadata.hasAlpha) {
      return {
        bytes: await pipeline.png({ compressionLevel: 9 }).toBuffer(),
        contentType: 'image/png',
      };
    }
    return {
      bytes: await pipeline.jpeg({ quality: 85, mozjpeg: true }).toBuffer(),
      contentType: 'image/jpeg',
    };
  } catch {
    throw refuse('the image data is damaged');
  }
};
