/**
 * The production store for scale-out: MongoDB through the official driver (6.x, which runs on
 * Node >= 16.20.1, so the same bundle loads in the WeChat cloud's Node 18 runtime). Every piece of
 * state lives here, so any number of server instances and cloud functions share one replica set.
 * Indexes are created at start-up; only driver code lives here, the rules are in repositories.ts.
 *
 * Semantics relied on (MongoDB manual): a unique index makes a concurrent insert or upsert fail
 * with E11000 (code 11000) rather than duplicate; findOneAndUpdate is atomic on one document; a
 * TTL index removes expired documents about once a minute (reads filter on the expiry anyway).
 */
import {
  Binary,
  type Collection,
  type Db,
  type Document,
  GridFSBucket,
  type GridFSFile,
  MongoClient,
  type UpdateFilter,
} from 'mongodb';
import { WechatAuthError } from '../errors.js';
import type { AccessTokenDoc, IdentityDoc } from './documents.js';
import { MongoAvatars } from './mongo-avatars.js';
import { guard, isDuplicateKey } from './mongo-guard.js';
import type { Change, CollectionName, CollectionPort, Filter, StoreDriver } from './port.js';
import { PortStore } from './repositories.js';

export interface MongoStoreOptions {
  url: string;
  /** Database name; the one in the URL, or "wxlogin" when the URL names none. */
  dbName?: string;
  /** How long to wait for a server before calls fail with store_unavailable. Default 5000 ms. */
  serverSelectionTimeoutMs?: number;
}

/** Binary fields come back as bytes, like every other driver's. */
function fromMongo<T>(doc: Document | null): T | null {
  if (!doc) return null;
  for (const [key, value] of Object.entries(doc)) {
    if (value instanceof Binary) doc[key] = new Uint8Array(value.buffer);
  }
  return doc as T;
}

function toUpdate(change: Change): UpdateFilter<Document> {
  const update: UpdateFilter<Document> = {};
  if (change.set && Object.keys(change.set).length > 0) update.$set = { ...change.set };
  if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((k) => [k, '']));
  return update;
}

class MongoCollection<T extends { _id: string }> implements CollectionPort<T> {
  constructor(private readonly collection: Collection<Document>) {}

  async findOne(filter: Filter): Promise<T | null> {
    return fromMongo<T>(await guard('find', () => this.collection.findOne(filter)));
  }

  async find(filter: Filter, options: { limit?: number } = {}): Promise<T[]> {
    const docs = await guard('find', () =>
      this.collection.find(filter, { limit: options.limit ?? 0 }).toArray(),
    );
    return docs.map((doc) => fromMongo<T>(doc) as T);
  }

  async insertOne(doc: T): Promise<void> {
    await guard('insert', () => this.collection.insertOne({ ...doc } as Document));
  }

  async updateOne(filter: Filter, change: Change, options: { upsert?: boolean } = {}) {
    const update = toUpdate(change);
    if (Object.keys(update).length === 0) return this.findOne(filter);
    const doc = await guard('update', () =>
      this.collection.findOneAndUpdate(filter, update, {
        returnDocument: 'after',
        upsert: options.upsert ?? false,
      }),
    );
    return fromMongo<T>(doc);
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    return (await guard('delete', () => this.collection.deleteOne(filter))).deletedCount > 0;
  }

  async deleteMany(filter: Filter): Promise<number> {
    return (await guard('delete', () => this.collection.deleteMany(filter))).deletedCount;
  }
}

class MongoDriver implements StoreDriver {
  readonly kind = 'mongo' as const;
  readonly avatars: MongoAvatars;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    this.avatars = new MongoAvatars(
      new GridFSBucket(db, { bucketName: 'avatars' }),
      db.collection<GridFSFile>('avatars.files'),
    );
  }

  collection<T extends { _id: string }>(name: CollectionName): CollectionPort<T> {
    return new MongoCollection<T>(this.db.collection(name));
  }

  isDuplicateKey(error: unknown): boolean {
    return isDuplicateKey(error);
  }

  async upsertIdentity(
    key: { appid: string; openid: string },
    set: Partial<IdentityDoc>,
    onInsert: IdentityDoc,
  ): Promise<IdentityDoc> {
    const identities = this.db.collection<IdentityDoc>('identities');
    const insertOnly = Object.fromEntries(
      Object.entries(onInsert).filter(([field]) => !(field in set) && !(field in key)),
    );
    const upsert = () =>
      identities.findOneAndUpdate(
        key,
        { ...(Object.keys(set).length > 0 ? { $set: set } : {}), $setOnInsert: insertOnly },
        { upsert: true, returnDocument: 'after' },
      );
    // Two concurrent upserts can both try the insert; the loser gets E11000 and, retried,
    // finds the winner's document (the retry the MongoDB manual prescribes for upserts).
    const identity = await guard('upsert identity', () =>
      upsert().catch((error: unknown) => {
        if (isDuplicateKey(error)) return upsert();
        throw error;
      }),
    );
    if (!identity) {
      throw new WechatAuthError('store_unavailable', 'mongo: upsert returned no identity');
    }
    return identity;
  }

  async acquireLease(appid: string, holder: string, until: Date, now: Date): Promise<boolean> {
    // Matches only a free or lapsed lease; when the document exists but the lease is held, the
    // upsert's insert collides on _id: that collision is the "no".
    try {
      await guard('acquire lease', () =>
        this.db.collection<AccessTokenDoc>('access_tokens').updateOne(
          {
            _id: appid,
            $or: [{ leaseUntil: { $exists: false } }, { leaseUntil: { $lte: now } }],
          },
          { $set: { leaseHolder: holder, leaseUntil: until } },
          { upsert: true },
        ),
      );
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async ping(): Promise<void> {
    await guard('ping', () => this.db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export class MongoStore extends PortStore {
  /** Connects and creates the indexes (idempotent). */
  static async connect(options: MongoStoreOptions): Promise<MongoStore> {
    const client = new MongoClient(options.url, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5000,
      // Faults surface as store_unavailable quickly rather than hanging a login.
      connectTimeoutMS: 5000,
    });
    await guard('connect', () => client.connect());
    const db = client.db(options.dbName ?? (client.options.dbName || 'wxlogin'));
    try {
      await guard('create indexes', () => createIndexes(db));
    } catch (error) {
      await client.close();
      throw error;
    }
    return new MongoStore(new MongoDriver(client, db));
  }
}

async function createIndexes(db: Db): Promise<void> {
  await db
    .collection('users')
    .createIndex(
      { unionid: 1 },
      { unique: true, partialFilterExpression: { unionid: { $type: 'string' } } },
    );
  await db.collection('identities').createIndex({ appid: 1, openid: 1 }, { unique: true });
  await db.collection('identities').createIndex({ userId: 1, appid: 1 });
  await db.collection('sessions').createIndex({ userId: 1 });
  await db.collection('rewards').createIndex({ userId: 1 });
  await db.collection('consents').createIndex({ userId: 1 });
  // The erasure sweep: users whose deletion is due (only those with one pending are indexed).
  await db
    .collection('users')
    .createIndex(
      { 'deletion.deleteAt': 1 },
      { partialFilterExpression: { 'deletion.deleteAt': { $type: 'date' } } },
    );
  // A cloud avatar's image check, found by the trace id of its wxa_media_check event.
  await db
    .collection('users')
    .createIndex(
      { 'pendingAvatar.traceId': 1 },
      { partialFilterExpression: { 'pendingAvatar.traceId': { $type: 'string' } } },
    );
  // A user's uploads, newest first (avatar pruning); GridFS indexes only filename and date.
  await db.collection('avatars.files').createIndex({ 'metadata.userId': 1, uploadDate: -1 });
  await db
    .collection('avatars.files')
    .createIndex({ 'metadata.review.traceId': 1 }, { sparse: true });
  // MongoDB removes expired sessions itself; reads also filter on expiresAt, since the TTL
  // monitor runs only once a minute.
  await db.collection('sessions').createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
}
