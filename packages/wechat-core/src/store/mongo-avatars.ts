/** The MongoDB store's avatars: GridFS, so images live in the same database as everything else. */
import type { GridFSBucket } from 'mongodb';
import { isRecordId as isAvatarId } from '../crypto/random.js';
import { guard } from './mongo-guard.js';
import type { AvatarRepository, StoredAvatar } from './types.js';

/** Avatars in GridFS (bucket "avatars"), named by their id, the content type in the metadata. */
export class MongoAvatars implements AvatarRepository {
  constructor(private readonly bucket: GridFSBucket) {}

  async save(id: string, avatar: StoredAvatar): Promise<void> {
    await guard('save avatar', async () => {
      const upload = this.bucket.openUploadStream(id, {
        metadata: { contentType: avatar.contentType },
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
      const contentType = (file.metadata as { contentType?: unknown } | undefined)?.contentType;
      return {
        bytes: Buffer.concat(chunks),
        contentType: typeof contentType === 'string' ? contentType : 'application/octet-stream',
      };
    });
  }
}
