/**
 * The repositories, written once over the driver port: the login upsert and unionid adoption,
 * ensure-user, grant-once, sessions and the access-token cache. Every race here is settled by the
 * database (a unique key, a conditional update, the driver's atomic identity upsert), never by
 * find-then-insert, so the rules hold for any number of processes sharing one database.
 */
import { newRecordId } from '../crypto/random.js';
import {
  type AccessTokenDoc,
  type IdentityDoc,
  type RewardDoc,
  type SessionDoc,
  type UserDoc,
  identityLoginFields,
  newUserDoc,
  profileSetFields,
  rewardKey,
  toCachedToken,
  toIdentity,
  toUser,
} from './documents.js';
import type { CollectionName, CollectionPort, StoreDriver } from './port.js';
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
  StoreKind,
  UnionidConflict,
  UserProfile,
  UserRecord,
  UserRepository,
  VerifiedPhone,
} from './types.js';

const COLLECTIONS: readonly CollectionName[] = [
  'users',
  'identities',
  'sessions',
  'access_tokens',
  'rewards',
];

/** A Store over a driver: what every driver's `open` returns. */
export class PortStore implements Store {
  readonly kind: StoreKind;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly accessTokens: AccessTokenRepository;
  readonly avatars: AvatarRepository;
  readonly rewards: RewardRepository;

  constructor(private readonly driver: StoreDriver) {
    this.kind = driver.kind;
    this.avatars = driver.avatars;
    this.users = new Users(driver, driver.collection('users'), driver.collection('identities'));
    this.sessions = new Sessions(driver.collection('sessions'));
    this.accessTokens = new AccessTokens(driver, driver.collection('access_tokens'));
    this.rewards = new Rewards(driver, driver.collection('rewards'));
  }

  ping(): Promise<void> {
    return this.driver.ping();
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  async exportDocuments(): Promise<Record<StoreCollection, unknown[]>> {
    const entries = await Promise.all(
      COLLECTIONS.map(async (name) => [name, await this.driver.collection(name).find({})]),
    );
    return Object.fromEntries(entries) as Record<StoreCollection, unknown[]>;
  }
}

class Users implements UserRepository {
  constructor(
    private readonly driver: StoreDriver,
    private readonly users: CollectionPort<UserDoc>,
    private readonly identities: CollectionPort<IdentityDoc>,
  ) {}

  async upsertLogin(input: LoginUpsertInput): Promise<LoginUpsertResult> {
    // A unionid another app already linked decides the user of a new identity.
    const linked = input.unionid ? await this.users.findOne({ unionid: input.unionid }) : null;
    const candidate: IdentityDoc = {
      _id: newRecordId(),
      appid: input.appid,
      openid: input.openid,
      userId: linked?._id ?? newRecordId(),
      createdAt: input.now,
    };
    const identity = await this.driver.upsertIdentity(
      { appid: input.appid, openid: input.openid },
      identityLoginFields(input),
      candidate,
    );
    const ensured = await this.ensureUser(identity, input);
    const { user, unionidConflict } =
      input.unionid && ensured.user.unionid !== input.unionid
        ? await this.adoptUnionid(ensured.user, input.unionid, input.now)
        : { user: ensured.user, unionidConflict: undefined };
    return {
      user: toUser(user),
      identity: toIdentity(identity),
      // The call whose insert made the user row. Not "the call that made the identity": when
      // another process's login of the same openid inserts the user between this call's identity
      // upsert and its user insert, that other call is the one that created the user.
      isNewUser: ensured.created,
      ...(unionidConflict ? { unionidConflict } : {}),
    };
  }

  /** The identity's user, created when missing (also heals a crash between the two writes). */
  private async ensureUser(
    identity: IdentityDoc,
    input: LoginUpsertInput,
  ): Promise<{ user: UserDoc; created: boolean }> {
    const existing = await this.users.findOne({ _id: identity.userId });
    if (existing) return { user: existing, created: false };
    const fresh = newUserDoc(identity.userId, input.unionid, input.now);
    try {
      await this.users.insertOne(fresh);
      return { user: fresh, created: true };
    } catch (error) {
      if (!this.driver.isDuplicateKey(error)) throw error;
      // Lost a race: either the same user id (another login of this openid) or the unionid
      // (another app's first login); either way the user that won is the one to use.
      const winner = await this.users.findOne(
        input.unionid ? { unionid: input.unionid } : { _id: identity.userId },
      );
      if (!winner) throw error;
      if (winner._id !== identity.userId) {
        await this.identities.updateOne({ _id: identity._id }, { set: { userId: winner._id } });
        identity.userId = winner._id;
      }
      return { user: winner, created: false };
    }
  }

  /**
   * A unionid reported for an existing user that does not hold it: the user takes it if it has
   * none and nobody else holds it (the unique key decides, atomically). Otherwise both users stay
   * apart and the conflict is returned for the caller to report; nothing is merged.
   */
  private async adoptUnionid(
    user: UserDoc,
    unionid: string,
    now: Date,
  ): Promise<{ user: UserDoc; unionidConflict?: UnionidConflict }> {
    const conflict = (heldBy?: UserDoc | null): UnionidConflict => ({
      unionid,
      userId: user._id,
      ...(heldBy && heldBy._id !== user._id ? { heldByUserId: heldBy._id } : {}),
    });
    if (user.unionid) return { user, unionidConflict: conflict() };
    try {
      const updated = await this.users.updateOne(
        { _id: user._id, unionid: { $exists: false } },
        { set: { unionid, updatedAt: now } },
      );
      if (updated) return { user: updated };
      // A concurrent login set this user's unionid first.
      const fresh = (await this.users.findOne({ _id: user._id })) ?? user;
      return fresh.unionid === unionid
        ? { user: fresh }
        : { user: fresh, unionidConflict: conflict() };
    } catch (error) {
      if (!this.driver.isDuplicateKey(error)) throw error;
      return { user, unionidConflict: conflict(await this.users.findOne({ unionid })) };
    }
  }

  async findUser(id: string): Promise<UserRecord | null> {
    const doc = await this.users.findOne({ _id: id });
    return doc ? toUser(doc) : null;
  }

  async updateProfile(id: string, profile: UserProfile, now: Date): Promise<UserRecord | null> {
    return this.updateUser(id, { ...profileSetFields(profile), updatedAt: now });
  }

  async setPhone(id: string, phone: VerifiedPhone, now: Date): Promise<UserRecord | null> {
    return this.updateUser(id, { phone, updatedAt: now });
  }

  private async updateUser(id: string, set: Record<string, unknown>): Promise<UserRecord | null> {
    const doc = await this.users.updateOne({ _id: id }, { set });
    return doc ? toUser(doc) : null;
  }

  async findIdentity(appid: string, openid: string): Promise<IdentityRecord | null> {
    const doc = await this.identities.findOne({ appid, openid });
    return doc ? toIdentity(doc) : null;
  }

  async findIdentityOfUser(userId: string, appid: string): Promise<IdentityRecord | null> {
    const doc = await this.identities.findOne({ userId, appid });
    return doc ? toIdentity(doc) : null;
  }

  async saveOAuthTokens(appid: string, openid: string, tokens: OAuthTokens): Promise<boolean> {
    return (
      (await this.identities.updateOne({ appid, openid }, { set: { oauth: tokens } })) !== null
    );
  }
}

class Rewards implements RewardRepository {
  constructor(
    private readonly driver: StoreDriver,
    private readonly rewards: CollectionPort<RewardDoc>,
  ) {}

  async grantOnce(userId: string, kind: string, now: Date): Promise<RewardGrant> {
    const _id = rewardKey(userId, kind);
    try {
      // The insert is the grant: _id is unique, so of any number of callers exactly one wins.
      await this.rewards.insertOne({ _id, userId, kind, grantedAt: now });
      return { granted: true, grantedAt: now };
    } catch (error) {
      if (!this.driver.isDuplicateKey(error)) throw error;
      const existing = await this.rewards.findOne({ _id });
      if (!existing) throw error;
      return { granted: false, grantedAt: existing.grantedAt };
    }
  }
}

class Sessions implements SessionRepository {
  constructor(private readonly sessions: CollectionPort<SessionDoc>) {}

  async insert(session: SessionRecord): Promise<void> {
    const { id, ...rest } = session;
    await this.sessions.insertOne({ _id: id, ...rest });
  }

  async findActive(id: string, now: Date): Promise<SessionRecord | null> {
    // The expiry is part of the query: a session past it is never returned, swept or not.
    const doc = await this.sessions.findOne({ _id: id, expiresAt: { $gt: now } });
    if (!doc) return null;
    const { _id, ...rest } = doc;
    return { id: _id, ...rest };
  }

  async extend(id: string, expiresAt: Date, lastVerifiedAt: Date): Promise<void> {
    await this.sessions.updateOne({ _id: id }, { set: { expiresAt, lastVerifiedAt } });
  }

  async delete(id: string): Promise<boolean> {
    return this.sessions.deleteOne({ _id: id });
  }

  async deleteAllOfUser(userId: string): Promise<number> {
    return this.sessions.deleteMany({ userId });
  }
}

class AccessTokens implements AccessTokenRepository {
  constructor(
    private readonly driver: StoreDriver,
    private readonly tokens: CollectionPort<AccessTokenDoc>,
  ) {}

  async get(appid: string): Promise<CachedAccessToken | null> {
    return toCachedToken(await this.tokens.findOne({ _id: appid }));
  }

  acquireLease(appid: string, holder: string, until: Date, now: Date): Promise<boolean> {
    return this.driver.acquireLease(appid, holder, until, now);
  }

  async save(token: CachedAccessToken, holder: string): Promise<void> {
    const { appid, accessToken, obtainedAt, expiresAt, refreshAt } = token;
    await this.tokens.updateOne(
      { _id: appid },
      { set: { accessToken, obtainedAt, expiresAt, refreshAt } },
      { upsert: true },
    );
    await this.releaseLease(appid, holder);
  }

  async releaseLease(appid: string, holder: string): Promise<void> {
    await this.tokens.updateOne(
      { _id: appid, leaseHolder: holder },
      { unset: ['leaseHolder', 'leaseUntil'] },
    );
  }
}
