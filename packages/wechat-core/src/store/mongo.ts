/**
 * The production store: MongoDB through the official driver. Every piece of state lives here, so
 * any number of server instances and cloud functions share one replica set. Indexes are created
 * at start-up; first logins race through an upsert on the unique (appid, openid) index.
 */
import { Binary, type Collection, type Db, GridFSBucket, MongoClient } from 'mongodb';
import { WechatAuthError } from '../errors.js';
import { MongoAvatars } from './mongo-avatars.js';
import { guard, isDuplicateKey } from './mongo-guard.js';
import { newRecordId } from '../crypto/random.js';
import {
  type AccessTokenDoc,
  type IdentityDoc,
  type RewardDoc,
  type SessionDoc as StoredSession,
  type UnionidOperations,
  type UserDoc,
  adoptUnionid,
  identityLoginFields,
  newUserDoc,
  profileSetFields,
  rewardKey,
  toCachedToken,
  toIdentity,
  toUser,
} from './documents.js';
import type {
  AccessTokenRepository,
  AvatarRepository,
  CachedAccessToken,
  IdentityRecord,
  LoginUpsertInput,
  LoginUpsertResult,
  OAuthTokens,
  RewardGrant,
  RewardRepository,
  SessionRecord,
  SessionRepository,
  Store,
  StoreCollection,
  UserProfile,
  UserRecord,
  UserRepository,
  VerifiedPhone,
} from './types.js';

type SessionDoc = StoredSession<Binary>;

export interface MongoStoreOptions {
  url: string;
  /** Database name; the one in the URL, or "wxlogin" when the URL names none. */
  dbName?: string;
  /** How long to wait for a server before calls fail with store_unavailable. Default 5000 ms. */
  serverSelectionTimeoutMs?: number;
}

export class MongoStore implements Store {
  readonly kind = 'mongo' as const;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly accessTokens: AccessTokenRepository;
  readonly avatars: AvatarRepository;
  readonly rewards: RewardRepository;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    this.users = new MongoUsers(
      db.collection<UserDoc>('users'),
      db.collection<IdentityDoc>('identities'),
    );
    this.sessions = new MongoSessions(db.collection<SessionDoc>('sessions'));
    this.accessTokens = new MongoAccessTokens(db.collection<AccessTokenDoc>('access_tokens'));
    this.avatars = new MongoAvatars(new GridFSBucket(db, { bucketName: 'avatars' }));
    this.rewards = new MongoRewards(db.collection<RewardDoc>('rewards'));
  }

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
      await guard('create indexes', () => MongoStore.createIndexes(db));
    } catch (error) {
      await client.close();
      throw error;
    }
    return new MongoStore(client, db);
  }

  private static async createIndexes(db: Db): Promise<void> {
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
    // MongoDB removes expired sessions itself; reads also filter on expiresAt, since the TTL
    // monitor runs only once a minute.
    await db.collection('sessions').createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
  }

  async ping(): Promise<void> {
    await guard('ping', () => this.db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async exportDocuments(): Promise<Record<StoreCollection, unknown[]>> {
    const all = (name: StoreCollection) =>
      guard('export', () => this.db.collection(name).find({}).toArray());
    return {
      users: await all('users'),
      identities: await all('identities'),
      sessions: await all('sessions'),
      access_tokens: await all('access_tokens'),
      rewards: await all('rewards'),
    };
  }

  /** Drops this store's collections; for the contract suite only. */
  async dropAllForTests(): Promise<void> {
    await this.db.dropDatabase();
    await MongoStore.createIndexes(this.db);
  }
}

class MongoUsers implements UserRepository {
  constructor(
    private readonly users: Collection<UserDoc>,
    private readonly identities: Collection<IdentityDoc>,
  ) {}

  async upsertLogin(input: LoginUpsertInput): Promise<LoginUpsertResult> {
    const linked = input.unionid
      ? await guard('find user', () => this.users.findOne({ unionid: input.unionid }))
      : null;
    const set = identityLoginFields(input);
    const upsert = () =>
      this.identities.findOneAndUpdate(
        { appid: input.appid, openid: input.openid },
        {
          ...(Object.keys(set).length > 0 ? { $set: set } : {}),
          $setOnInsert: {
            _id: newRecordId(),
            userId: linked?._id ?? newRecordId(),
            createdAt: input.now,
          },
        },
        { upsert: true, returnDocument: 'after', includeResultMetadata: true },
      );
    // Two concurrent upserts can both try the insert; the loser gets E11000 and, retried,
    // finds the winner's document.
    const result = await guard('upsert identity', () =>
      upsert().catch((e: unknown) => {
        if (isDuplicateKey(e)) return upsert();
        throw e;
      }),
    );
    const identity = result.value;
    if (!identity)
      throw new WechatAuthError('store_unavailable', 'mongo: upsert returned no identity');
    const identityCreated = result.lastErrorObject?.updatedExisting === false;
    const ensured = await this.ensureUser(identity, input);
    const { user, unionidConflict } =
      input.unionid && ensured.user.unionid !== input.unionid
        ? await adoptUnionid(ensured.user, input.unionid, input.now, this.unionidOps)
        : { user: ensured.user, unionidConflict: undefined };
    return {
      user: toUser(user),
      identity: toIdentity(identity),
      isNewUser: identityCreated && ensured.created,
      ...(unionidConflict ? { unionidConflict } : {}),
    };
  }

  private readonly unionidOps: UnionidOperations = {
    setIfAbsent: (userId, unionid, now) =>
      guard('link unionid', () =>
        this.users.findOneAndUpdate(
          { _id: userId, unionid: { $exists: false } },
          { $set: { unionid, updatedAt: now } },
          { returnDocument: 'after' },
        ),
      ),
    findById: (userId) => guard('find user', () => this.users.findOne({ _id: userId })),
    findByUnionid: (unionid) => guard('find user', () => this.users.findOne({ unionid })),
    isUniqueViolation: isDuplicateKey,
  };

  /** The identity's user, created when missing (also heals a crash between the two writes). */
  private async ensureUser(
    identity: IdentityDoc,
    input: LoginUpsertInput,
  ): Promise<{ user: UserDoc; created: boolean }> {
    const fresh = newUserDoc(identity.userId, input.unionid, input.now);
    const { _id, ...onInsert } = fresh;
    try {
      const result = await guard('upsert user', () =>
        this.users.findOneAndUpdate(
          { _id },
          { $setOnInsert: onInsert },
          { upsert: true, returnDocument: 'after', includeResultMetadata: true },
        ),
      );
      if (!result.value)
        throw new WechatAuthError('store_unavailable', 'mongo: upsert returned no user');
      return { user: result.value, created: result.lastErrorObject?.updatedExisting === false };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // Another app's first login created the user with this unionid first: link to it.
      const winner = await guard('find user', () =>
        this.users.findOne(input.unionid ? { unionid: input.unionid } : { _id }),
      );
      if (!winner) throw error;
      if (winner._id !== identity.userId) {
        await guard('link identity', () =>
          this.identities.updateOne({ _id: identity._id }, { $set: { userId: winner._id } }),
        );
        identity.userId = winner._id;
      }
      return { user: winner, created: false };
    }
  }

  async findUser(id: string): Promise<UserRecord | null> {
    const doc = await guard('find user', () => this.users.findOne({ _id: id }));
    return doc ? toUser(doc) : null;
  }

  async updateProfile(id: string, profile: UserProfile, now: Date): Promise<UserRecord | null> {
    return this.updateUser(id, { ...profileSetFields(profile), updatedAt: now });
  }

  async setPhone(id: string, phone: VerifiedPhone, now: Date): Promise<UserRecord | null> {
    return this.updateUser(id, { phone, updatedAt: now });
  }

  private async updateUser(id: string, set: Record<string, unknown>): Promise<UserRecord | null> {
    const doc = await guard('update user', () =>
      this.users.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' }),
    );
    return doc ? toUser(doc) : null;
  }

  async findIdentity(appid: string, openid: string): Promise<IdentityRecord | null> {
    const doc = await guard('find identity', () => this.identities.findOne({ appid, openid }));
    return doc ? toIdentity(doc) : null;
  }

  async findIdentityOfUser(userId: string, appid: string): Promise<IdentityRecord | null> {
    const doc = await guard('find identity', () => this.identities.findOne({ userId, appid }));
    return doc ? toIdentity(doc) : null;
  }

  async saveOAuthTokens(appid: string, openid: string, tokens: OAuthTokens): Promise<boolean> {
    const result = await guard('save oauth tokens', () =>
      this.identities.updateOne({ appid, openid }, { $set: { oauth: tokens } }),
    );
    return result.matchedCount === 1;
  }
}

class MongoRewards implements RewardRepository {
  constructor(private readonly rewards: Collection<RewardDoc>) {}

  async grantOnce(userId: string, kind: string, now: Date): Promise<RewardGrant> {
    const _id = rewardKey(userId, kind);
    try {
      // The insert is the grant: _id is unique, so of any number of callers exactly one wins.
      await guard('grant reward', () =>
        this.rewards.insertOne({ _id, userId, kind, grantedAt: now }),
      );
      return { granted: true, grantedAt: now };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const existing = await guard('find reward', () => this.rewards.findOne({ _id }));
      if (!existing) throw error;
      return { granted: false, grantedAt: existing.grantedAt };
    }
  }
}

class MongoSessions implements SessionRepository {
  constructor(private readonly sessions: Collection<SessionDoc>) {}

  async insert(session: SessionRecord): Promise<void> {
    const { id, secretHash, ...rest } = session;
    await guard('insert session', () =>
      this.sessions.insertOne({
        _id: id,
        secretHash: new Binary(Buffer.from(secretHash)),
        ...rest,
      }),
    );
  }

  async findActive(id: string, now: Date): Promise<SessionRecord | null> {
    const doc = await guard('find session', () =>
      this.sessions.findOne({ _id: id, expiresAt: { $gt: now } }),
    );
    if (!doc) return null;
    const { _id, secretHash, ...rest } = doc;
    return { id: _id, secretHash: new Uint8Array(secretHash.buffer), ...rest };
  }

  async extend(id: string, expiresAt: Date, lastVerifiedAt: Date): Promise<void> {
    await guard('extend session', () =>
      this.sessions.updateOne({ _id: id }, { $set: { expiresAt, lastVerifiedAt } }),
    );
  }

  async delete(id: string): Promise<boolean> {
    const result = await guard('delete session', () => this.sessions.deleteOne({ _id: id }));
    return result.deletedCount > 0;
  }

  async deleteAllOfUser(userId: string): Promise<number> {
    const result = await guard('delete sessions', () => this.sessions.deleteMany({ userId }));
    return result.deletedCount;
  }
}

class MongoAccessTokens implements AccessTokenRepository {
  constructor(private readonly tokens: Collection<AccessTokenDoc>) {}

  async get(appid: string): Promise<CachedAccessToken | null> {
    const doc = await guard('read access token', () => this.tokens.findOne({ _id: appid }));
    return toCachedToken(doc);
  }

  async acquireLease(appid: string, holder: string, until: Date, now: Date): Promise<boolean> {
    // Matches only a free or lapsed lease; when the document exists but the lease is held, the
    // upsert's insert collides on _id: that collision is the "no".
    try {
      await guard('acquire lease', () =>
        this.tokens.updateOne(
          { _id: appid, $or: [{ leaseUntil: { $exists: false } }, { leaseUntil: { $lte: now } }] },
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

  async save(token: CachedAccessToken, holder: string): Promise<void> {
    const { appid, accessToken, obtainedAt, expiresAt, refreshAt } = token;
    await guard('save access token', () =>
      this.tokens.updateOne(
        { _id: appid },
        { $set: { accessToken, obtainedAt, expiresAt, refreshAt } },
        { upsert: true },
      ),
    );
    await this.releaseLease(appid, holder);
  }

  async releaseLease(appid: string, holder: string): Promise<void> {
    await guard('release lease', () =>
      this.tokens.updateOne(
        { _id: appid, leaseHolder: holder },
        { $unset: { leaseHolder: '', leaseUntil: '' } },
      ),
    );
  }
}
