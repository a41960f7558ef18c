/**
 * The default store: @seald-io/nedb datastores persisted under DATA_DIR, no server to install.
 * One process per DATA_DIR (enforced with a lock file). nedb runs every operation through one
 * queue per datastore, so a single insert or conditional update is atomic; the login upsert is
 * built from such steps: insert-or-update on a unique (appid, openid) index, never find-then-insert.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { newRecordId } from '../crypto/random.js';
import { EmbeddedAvatars } from './embedded-avatars.js';
import { Collection, Datastore, isUniqueViolation } from './embedded-collection.js';
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

type SessionDoc = StoredSession<string>;

export interface EmbeddedStoreOptions {
  /** Folder for the data files; created when missing. */
  dataDir: string;
  /** How often nedb rewrites its append-only files compactly. Default 10 minutes. */
  compactionIntervalMs?: number;
  /**
   * How long to wait for another holder of DATA_DIR to close it. Default 0: a second process
   * is refused at once (the server's rule). Short-lived openers (local cloud functions) wait.
   */
  waitForLockMs?: number;
}

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly accessTokens: AccessTokenRepository;
  readonly avatars: AvatarRepository;
  readonly rewards: RewardRepository;

  private constructor(
    private readonly collections: {
      users: Collection<UserDoc>;
      identities: Collection<IdentityDoc>;
      sessions: Collection<SessionDoc>;
      accessTokens: Collection<AccessTokenDoc>;
      rewards: Collection<RewardDoc>;
    },
    private readonly unlock: () => Promise<void>,
    dataDir: string,
  ) {
    this.avatars = new EmbeddedAvatars(join(dataDir, 'avatars'));
    this.users = new EmbeddedUsers(collections.users, collections.identities);
    this.sessions = new EmbeddedSessions(collections.sessions);
    this.accessTokens = new EmbeddedAccessTokens(collections.accessTokens);
    this.rewards = new EmbeddedRewards(collections.rewards);
  }

  /** Opens (or creates) the store in `dataDir`; fails if another process has it open. */
  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    await mkdir(options.dataDir, { recursive: true });
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(options.dataDir, {
        lockfilePath: join(options.dataDir, 'store.lock'),
        stale: 15_000,
        update: 5_000,
        ...(options.waitForLockMs
          ? {
              retries: {
                retries: Math.ceil(options.waitForLockMs / 50),
                minTimeout: 50,
                maxTimeout: 50,
                factor: 1,
              },
            }
          : {}),
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ELOCKED') {
        throw new Error(
          `DATA_DIR ${options.dataDir} is in use by another process: the embedded store serves one process only (use MONGODB_URL to run several)`,
          { cause: error },
        );
      }
      throw error;
    }
    try {
      const open = async <T extends { _id: string }>(name: string) => {
        const filename = join(options.dataDir, `${name}.db`);
        const db = new Datastore<T>({ filename });
        await db.loadDatabaseAsync();
        db.setAutocompactionInterval(options.compactionIntervalMs ?? 10 * 60_000);
        return new Collection(db, name, filename);
      };
      const users = await open<UserDoc>('users');
      const identities = await open<IdentityDoc>('identities');
      const sessions = await open<SessionDoc>('sessions');
      const accessTokens = await open<AccessTokenDoc>('access_tokens');
      const rewards = await open<RewardDoc>('rewards');
      await users.db.ensureIndexAsync({ fieldName: 'unionid', unique: true, sparse: true });
      await identities.db.ensureIndexAsync({ fieldName: ['appid', 'openid'], unique: true });
      await identities.db.ensureIndexAsync({ fieldName: 'userId' });
      await sessions.db.ensureIndexAsync({ fieldName: 'userId' });
      await sessions.db.ensureIndexAsync({ fieldName: 'expiresAt', expireAfterSeconds: 0 });
      return new EmbeddedStore(
        { users, identities, sessions, accessTokens, rewards },
        release,
        options.dataDir,
      );
    } catch (error) {
      await release();
      throw error;
    }
  }

  async ping(): Promise<void> {
    await this.collections.users.run((db) => db.countAsync({ _id: '' }));
  }

  async exportDocuments(): Promise<Record<StoreCollection, unknown[]>> {
    const all = <T extends { _id: string }>(c: Collection<T>) => c.run((db) => db.findAsync({}));
    return {
      users: await all(this.collections.users),
      identities: await all(this.collections.identities),
      sessions: await all(this.collections.sessions),
      access_tokens: await all(this.collections.accessTokens),
      rewards: await all(this.collections.rewards),
    };
  }

  async close(): Promise<void> {
    for (const collection of Object.values(this.collections)) {
      collection.db.stopAutocompaction();
      await collection.db.compactDatafileAsync().catch(() => undefined);
    }
    await this.unlock();
  }
}

class EmbeddedUsers implements UserRepository {
  constructor(
    private readonly users: Collection<UserDoc>,
    private readonly identities: Collection<IdentityDoc>,
  ) {}

  async upsertLogin(input: LoginUpsertInput): Promise<LoginUpsertResult> {
    const linked = input.unionid
      ? await this.users.run((db) => db.findOneAsync({ unionid: input.unionid }))
      : null;
    const set = identityLoginFields(input);
    const candidate: IdentityDoc = {
      _id: newRecordId(),
      appid: input.appid,
      openid: input.openid,
      userId: linked?._id ?? newRecordId(),
      createdAt: input.now,
      ...set,
    };
    // Returning users are the common case: update first (one write, no exception); insert only
    // when nothing matched, and if a concurrent first login inserted meanwhile, update that one.
    const key = { appid: input.appid, openid: input.openid };
    const updateExisting = async (): Promise<IdentityDoc | null> => {
      if (Object.keys(set).length === 0) return this.identities.run((db) => db.findOneAsync(key));
      const updated = await this.identities.run((db) =>
        db.updateAsync(key, { $set: set }, { returnUpdatedDocs: true }),
      );
      return updated.numAffected === 1 ? updated.affectedDocuments : null;
    };
    let identity = await updateExisting();
    let identityCreated = false;
    if (!identity) {
      try {
        identity = await this.identities.run((db) => db.insertAsync(candidate));
        identityCreated = true;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        identity = await updateExisting();
        if (!identity) throw error;
      }
    }
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
    setIfAbsent: async (userId, unionid, now) => {
      const result = await this.users.run((db) =>
        db.updateAsync(
          { _id: userId, unionid: { $exists: false } },
          { $set: { unionid, updatedAt: now } },
          { returnUpdatedDocs: true },
        ),
      );
      return result.affectedDocuments ?? null;
    },
    findById: (userId) => this.users.run((db) => db.findOneAsync({ _id: userId })),
    findByUnionid: (unionid) => this.users.run((db) => db.findOneAsync({ unionid })),
    isUniqueViolation,
  };

  /** The identity's user, created when missing (also heals a crash between the two writes). */
  private async ensureUser(
    identity: IdentityDoc,
    input: LoginUpsertInput,
  ): Promise<{ user: UserDoc; created: boolean }> {
    const existing = await this.users.run((db) => db.findOneAsync({ _id: identity.userId }));
    if (existing) return { user: existing, created: false };
    try {
      const user = await this.users.run((db) =>
        db.insertAsync(newUserDoc(identity.userId, input.unionid, input.now)),
      );
      return { user, created: true };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Lost a race: either the same user id (another login of this openid) or the unionid
      // (another app's first login); either way the user that won is the one to use.
      const winner = await this.users.run((db) =>
        db.findOneAsync(input.unionid ? { unionid: input.unionid } : { _id: identity.userId }),
      );
      if (!winner) throw error;
      if (winner._id !== identity.userId) {
        await this.identities.run((db) =>
          db.updateAsync({ _id: identity._id }, { $set: { userId: winner._id } }),
        );
        identity.userId = winner._id;
      }
      return { user: winner, created: false };
    }
  }

  async findUser(id: string): Promise<UserRecord | null> {
    const doc = await this.users.run((db) => db.findOneAsync({ _id: id }));
    return doc ? toUser(doc) : null;
  }

  async updateProfile(id: string, profile: UserProfile, now: Date): Promise<UserRecord | null> {
    return this.updateUser(id, { ...profileSetFields(profile), updatedAt: now });
  }

  async setPhone(id: string, phone: VerifiedPhone, now: Date): Promise<UserRecord | null> {
    return this.updateUser(id, { phone, updatedAt: now });
  }

  private async updateUser(id: string, set: Record<string, unknown>): Promise<UserRecord | null> {
    const result = await this.users.run((db) =>
      db.updateAsync({ _id: id }, { $set: set }, { returnUpdatedDocs: true }),
    );
    const doc = result.affectedDocuments;
    return doc ? toUser(doc) : null;
  }

  async findIdentity(appid: string, openid: string): Promise<IdentityRecord | null> {
    const doc = await this.identities.run((db) => db.findOneAsync({ appid, openid }));
    return doc ? toIdentity(doc) : null;
  }

  async findIdentityOfUser(userId: string, appid: string): Promise<IdentityRecord | null> {
    const doc = await this.identities.run((db) => db.findOneAsync({ userId, appid }));
    return doc ? toIdentity(doc) : null;
  }

  async saveOAuthTokens(appid: string, openid: string, tokens: OAuthTokens): Promise<boolean> {
    const result = await this.identities.run((db) =>
      db.updateAsync({ appid, openid }, { $set: { oauth: tokens } }, {}),
    );
    return result.numAffected === 1;
  }
}

class EmbeddedRewards implements RewardRepository {
  constructor(private readonly rewards: Collection<RewardDoc>) {}

  async grantOnce(userId: string, kind: string, now: Date): Promise<RewardGrant> {
    const _id = rewardKey(userId, kind);
    try {
      // The insert is the grant: _id is unique, so of any number of callers exactly one wins.
      await this.rewards.run((db) => db.insertAsync({ _id, userId, kind, grantedAt: now }));
      return { granted: true, grantedAt: now };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const existing = await this.rewards.run((db) => db.findOneAsync({ _id }));
      if (!existing) throw error;
      return { granted: false, grantedAt: existing.grantedAt };
    }
  }
}

class EmbeddedSessions implements SessionRepository {
  constructor(private readonly sessions: Collection<SessionDoc>) {}

  async insert(session: SessionRecord): Promise<void> {
    const { id, secretHash, ...rest } = session;
    await this.sessions.run((db) =>
      db.insertAsync({ _id: id, secretHash: Buffer.from(secretHash).toString('base64'), ...rest }),
    );
  }

  async findActive(id: string, now: Date): Promise<SessionRecord | null> {
    const doc = await this.sessions.run((db) =>
      db.findOneAsync({ _id: id, expiresAt: { $gt: now } }),
    );
    if (!doc) return null;
    const { _id, secretHash, ...rest } = doc;
    return { id: _id, secretHash: Buffer.from(secretHash, 'base64'), ...rest };
  }

  async extend(id: string, expiresAt: Date, lastVerifiedAt: Date): Promise<void> {
    await this.sessions.run((db) =>
      db.updateAsync({ _id: id }, { $set: { expiresAt, lastVerifiedAt } }),
    );
  }

  async delete(id: string): Promise<boolean> {
    return (await this.sessions.run((db) => db.removeAsync({ _id: id }, {}))) > 0;
  }

  async deleteAllOfUser(userId: string): Promise<number> {
    return this.sessions.run((db) => db.removeAsync({ userId }, { multi: true }));
  }
}

class EmbeddedAccessTokens implements AccessTokenRepository {
  constructor(private readonly tokens: Collection<AccessTokenDoc>) {}

  async get(appid: string): Promise<CachedAccessToken | null> {
    const doc = await this.tokens.run((db) => db.findOneAsync({ _id: appid }));
    return toCachedToken(doc);
  }

  async acquireLease(appid: string, holder: string, until: Date, now: Date): Promise<boolean> {
    // One conditional update: nedb's queue makes it atomic against every other caller.
    const taken = await this.tokens.run((db) =>
      db.updateAsync(
        { _id: appid, $or: [{ leaseUntil: { $exists: false } }, { leaseUntil: { $lte: now } }] },
        { $set: { leaseHolder: holder, leaseUntil: until } },
        {},
      ),
    );
    if (taken.numAffected === 1) return true;
    try {
      await this.tokens.run((db) =>
        db.insertAsync({ _id: appid, leaseHolder: holder, leaseUntil: until }),
      );
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async save(token: CachedAccessToken, holder: string): Promise<void> {
    const { appid, accessToken, obtainedAt, expiresAt, refreshAt } = token;
    await this.tokens.run((db) =>
      db.updateAsync(
        { _id: appid },
        { $set: { accessToken, obtainedAt, expiresAt, refreshAt } },
        { upsert: true },
      ),
    );
    await this.releaseLease(appid, holder);
  }

  async releaseLease(appid: string, holder: string): Promise<void> {
    await this.tokens.run((db) =>
      db.updateAsync(
        { _id: appid, leaseHolder: holder },
        { $unset: { leaseHolder: true, leaseUntil: true } },
        {},
      ),
    );
  }
}
