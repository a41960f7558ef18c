/**
 * The embedded store's avatars: image files under DATA_DIR/avatars, with who uploaded each in the
 * SQLite file's `avatars` table (so a user's replaced uploads can be deleted).
 *
 * A file is written to `<id>.<ext>.<random>.tmp` and renamed into place, so a reader never sees
 * half an image; a failed write removes its temporary file, and one left by a crash is swept at
 * the next start (when older than a minute: another process may be writing it right now).
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WechatAuthError } from '../errors.js';
import { isRecordId as isAvatarId, newRecordId } from '../crypto/random.js';
import type { AvatarRepository, AvatarReview, StoredAvatar } from './types.js';

const AVATAR_EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** A temporary file older than this belongs to a write that will never finish. */
const STALE_TEMPORARY_MS = 60_000;

/** Who uploaded which file: rows of the SQLite `avatars` table. */
export interface AvatarIndex {
  add(row: {
    id: string;
    userId: string;
    file: string;
    createdAt: Date;
    checkKey?: string;
  }): Promise<void>;
  reviewOf(id: string): Promise<AvatarReview | undefined>;
  setTraceId(id: string, traceId: string): Promise<void>;
  byTraceId(traceId: string): Promise<{ id: string; userId: string } | null>;
  approve(id: string): Promise<boolean>;
  /** The user's uploads, newest first. */
  ofUser(userId: string): Promise<{ id: string; file: string; createdAt: Date }[]>;
  ownerOf(id: string): Promise<string | undefined>;
  remove(id: string): Promise<void>;
}

function unavailable(what: string, error: unknown): WechatAuthError {
  return new WechatAuthError('store_unavailable', `embedded store: cannot ${what}`, {
    cause: error,
  });
}

/** Avatars as files under DATA_DIR/avatars/<id>.<ext>, indexed by uploader. */
export class EmbeddedAvatars implements AvatarRepository {
  constructor(
    private readonly dir: string,
    private readonly index: AvatarIndex,
  ) {}

  async save(
    id: string,
    avatar: StoredAvatar,
    owner: { userId: string; now: Date },
  ): Promise<void> {
    // The id becomes a file name: only the record-id alphabet, never a path.
    if (!isAvatarId(id)) throw new WechatAuthError('bad_request', 'not an avatar id');
    const extension = AVATAR_EXTENSIONS[avatar.contentType];
    if (!extension) throw new WechatAuthError('bad_request', 'unsupported avatar type');
    const file = `${id}.${extension}`;
    const target = join(this.dir, file);
    const temporary = `${target}.${newRecordId()}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(temporary, avatar.bytes);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw unavailable('write the avatar', error);
    }
    try {
      await this.index.add({
        id,
        userId: owner.userId,
        file,
        createdAt: owner.now,
        ...(avatar.review ? { checkKey: avatar.review.checkKey } : {}),
      });
    } catch (error) {
      // No owner on record: the file would never be pruned, so it goes.
      await rm(target, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  async find(id: string): Promise<StoredAvatar | null> {
    if (!isAvatarId(id)) return null;
    for (const [contentType, extension] of Object.entries(AVATAR_EXTENSIONS)) {
      try {
        const bytes = await readFile(join(this.dir, `${id}.${extension}`));
        const review = await this.index.reviewOf(id);
        return { bytes, contentType, ...(review ? { review } : {}) };
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT')
          throw unavailable('read the avatar', error);
      }
    }
    return null;
  }

  owner(id: string): Promise<string | undefined> {
    return isAvatarId(id) ? this.index.ownerOf(id) : Promise.resolve(undefined);
  }

  async prune(userId: string, keep: number, protect: readonly string[]): Promise<number> {
    const uploads = await this.index.ofUser(userId);
    let deleted = 0;
    for (const upload of uploads.slice(keep)) {
      if (protect.includes(upload.id)) continue;
      try {
        await rm(join(this.dir, upload.file), { force: true });
      } catch (error) {
        throw unavailable('delete a replaced avatar', error);
      }
      await this.index.remove(upload.id);
      deleted += 1;
    }
    return deleted;
  }

  async ofUser(userId: string): Promise<{ id: string; createdAt: Date }[]> {
    return (await this.index.ofUser(userId)).map(({ id, createdAt }) => ({ id, createdAt }));
  }

  async delete(id: string): Promise<boolean> {
    if (!isAvatarId(id)) return false;
    let deleted = false;
    for (const extension of Object.values(AVATAR_EXTENSIONS)) {
      const path = join(this.dir, `${id}.${extension}`);
      try {
        await rm(path);
        deleted = true;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT')
          throw unavailable('delete the avatar', error);
      }
    }
    await this.index.remove(id);
    return deleted;
  }

  setTraceId(id: string, traceId: string): Promise<void> {
    return this.index.setTraceId(id, traceId);
  }

  findByTraceId(traceId: string): Promise<{ id: string; userId: string } | null> {
    return this.index.byTraceId(traceId);
  }

  approve(id: string): Promise<boolean> {
    return this.index.approve(id);
  }

  /** Removes temporary files that crashed writes left behind; returns how many. */
  async sweepTemporary(now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0; // no folder yet, or unreadable: nothing to sweep now
    }
    let removed = 0;
    for (const name of names.filter((n) => n.endsWith('.tmp'))) {
      const path = join(this.dir, name);
      try {
        if (now - (await stat(path)).mtimeMs < STALE_TEMPORARY_MS) continue;
        await rm(path, { force: true });
        removed += 1;
      } catch {
        // Gone already (another process swept it), or the disk refuses: try again next start.
      }
    }
    return removed;
  }
}
