/** The MongoDB store's avatars: GridFS, so images live in the same database as everything else. */
import type { Collection, GridFSBucket, GridFSFile } from 'mongodb';
import { isRecordId as isAvatarId } from '../crypto/random.js';
import { guard } from './mongo-guard.js';
import type { AvatarRepository, AvatarReview, StoredAvatar } from './types.js';

/** Avatars in GridFS (bucket "avatars"), named by their id, the content type in the metadata. */
export class MongoAvatars implements AvatarRepository {
  constructor(
    private readonly bucket: GridFSBucket,
    /** The bucket's `avatars.files`: the image check's state lives in each file's metadata. */
    private readonly files: Collection<GridFSFile>,
  ) {}

  async save(id: string, avatar: StoredAvatar, owner: { userId: string }): Promise<void> {
    await guard('save avatar', async () => {
      const upload = this.bucket.openUploadStream(id, {
        metadata: {
          contentType: avatar.contentType,
          userId: owner.userId,
          ...(avatar.review ? { review: { checkKey: avatar.review.checkKey } } : {}),
        },
      });
      await new Promise<void>((resolve, reject) => {
        upload.once('finish', () => resolve());
        upload.once('error', reject);
        upload.end(Buffer.from(avatar.bytes));
      });
    });
  }

  async find(id: string): Promise<StoredAvatar | null> {
    if (!isAvatarId(id)) return null;
    return guard('read avatar', async () => {
      const file = await this.bucket.find({ filename: id }).limit(1).next();
      if (!file) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of this.bucket.openDownloadStream(file._id))
        chunks.push(chunk as Buffer);
      const metadata = file.metadata as
        { contentType?: unknown; review?: AvatarReview } | undefined;
      const contentType = metadata?.contentType;
      return {
        bytes: Buffer.concat(chunks),
        contentType: typeof contentType === 'string' ? contentType : 'application/octet-stream',
        ...(metadata?.review?.checkKey ? { review: metadata.review } : {}),
      };
    });
  }

  async owner(id: string): Promise<string | undefined> {
    if (!isAvatarId(id)) return undefined;
    return guard('read avatar owner', async () => {
      const file = await this.bucket.find({ filename: id }).limit(1).next();
      const userId = (file?.metadata as { userId?: unknown } | undefined)?.userId;
      return typeof userId === 'string' ? userId : undefined;
    });
  }

  /** The user's uploads, newest first by upload date (GridFS keeps the uploader in metadata). */
  private uploadsOf(userId: string): Promise<GridFSFile[]> {
    return this.bucket
      .find({ 'metadata.userId': userId })
      .sort({ uploadDate: -1, _id: -1 })
      .toArray();
  }

  /** Deletes one GridFS file; false when another request deleted it first. */
  private async deleteFile(file: GridFSFile): Promise<boolean> {
    try {
      await this.bucket.delete(file._id);
      return true;
    } catch (error) {
      if (!/FileNotFound|File not found/i.test(String((error as Error).message))) throw error;
      return false;
    }
  }

  async prune(userId: string, keep: number, protect: readonly string[]): Promise<number> {
    return guard('prune avatars', async () => {
      let deleted = 0;
      for (const file of (await this.uploadsOf(userId)).slice(keep)) {
        if (!protect.includes(file.filename) && (await this.deleteFile(file))) deleted += 1;
      }
      return deleted;
    });
  }

  async setTraceId(id: string, traceId: string): Promise<void> {
    await guard('record the avatar check', () =>
      this.files.updateOne({ filename: id }, { $set: { 'metadata.review.traceId': traceId } }),
    );
  }

  async findByTraceId(traceId: string): Promise<{ id: string; userId: string } | null> {
    return guard('find the avatar of a check', async () => {
      const file = await this.files.findOne({ 'metadata.review.traceId': traceId });
      const userId = (file?.metadata as { userId?: unknown } | undefined)?.userId;
      return file && typeof userId === 'string' ? { id: file.filename, userId } : null;
    });
  }

  async approve(id: string): Promise<boolean> {
    return guard('approve the avatar', async () => {
      const result = await this.files.updateOne(
        { filename: id, 'metadata.review': { $exists: true } },
        { $unset: { 'metadata.review': '' } },
      );
      return result.modifiedCount > 0;
    });
  }

  async ofUser(userId: string): Promise<{ id: string; createdAt: Date }[]> {
    return guard('list avatars', async () =>
      (await this.uploadsOf(userId)).map((file) => ({
        id: file.filename,
        createdAt: file.uploadDate,
      })),
    );
  }

  async delete(id: string): Promise<boolean> {
    if (!isAvatarId(id)) return false;
    return guard('delete avatar', async () => {
      let deleted = false;
      for (const file of await this.bucket.find({ filename: id }).toArray())
        if (await this.deleteFile(file)) deleted = true;
      return deleted;
    });
  }
}
