/** The embedded store's avatars: image files under DATA_DIR/avatars, no database involved. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WechatAuthError } from '../errors.js';
import { isRecordId as isAvatarId } from '../crypto/random.js';
import type { AvatarRepository, StoredAvatar } from './types.js';

const AVATAR_EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Avatars as files under DATA_DIR/avatars/<id>.<ext>, written to a temporary name and renamed. */
export class EmbeddedAvatars implements AvatarRepository {
  constructor(private readonly dir: string) {}

  async save(id: string, avatar: StoredAvatar): Promise<void> {
    // The id becomes a file name: only the record-id alphabet, never a path.
    if (!isAvatarId(id)) throw new WechatAuthError('bad_request', 'not an avatar id');
    const extension = AVATAR_EXTENSIONS[avatar.contentType];
    if (!extension) throw new WechatAuthError('bad_request', 'unsupported avatar type');
    const target = join(this.dir, `${id}.${extension}`);
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(`${target}.tmp`, avatar.bytes);
      await rename(`${target}.tmp`, target);
    } catch (error) {
      throw new WechatAuthError('store_unavailable', 'embedded store: cannot write the avatar', {
        cause: error,
      });
    }
  }

  async find(id: string): Promise<StoredAvatar | null> {
    if (!isAvatarId(id)) return null;
    for (const [contentType, extension] of Object.entries(AVATAR_EXTENSIONS)) {
      try {
        return { bytes: await readFile(join(this.dir, `${id}.${extension}`)), contentType };
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT') {
          throw new WechatAuthError('store_unavailable', 'embedded store: cannot read the avatar', {
            cause: error,
          });
        }
      }
    }
    return null;
  }
}
