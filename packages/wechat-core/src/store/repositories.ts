/**
 * The repositories, written once over the driver port: the login upsert and unionid adoption,
 * ensure-user, grant-once, sessions and the access-token cache. Every race here is settled by the
 * database (a unique key, a conditional update, the driver's atomic identity upsert), never by
 * find-then-insert, so the rules hold for any number of processes sharing one database.
 */
import { newRecordId } from '../crypto/random.js';
import {
  type AccessTokenDoc,
  type ConsentDoc,
  type IdentityDoc,
  type RewardDoc,
  type SessionDoc,
  type UserDoc,
  consentKey,
  identityLoginFields,
  newUserDoc,
  profileSetFields,
  rewardKey,
  toCachedToken,
  toConsent,
  toIdentity,
  toUser,
} from './documents.js';
import type { CollectionName, CollectionPort, StoreDriver } from './port.js';
import type {
  AccessTokenRepository,
  AccountDeletion,
  AccountRecords,
  AccountRepository,
  AvatarRepository,
  ConsentRecord,
  ConsentRepository,
  CachedAccessToken,
  IdentityRecord,
  LoginUpsertInput,
  LoginUpsertResult,
  OAuthTokens,
  PendingAvatar,
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
import { STORE_COLLECTIONS } from './types.js';

/** A Store over a driver: what every driver's `open` returns. */
export class PortStore implements Store {
  readonly kind: StoreKind;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly accessTokens: AccessTokenRepository;
  readonly avatars: AvatarRepository;
  readonly rewards: RewardRepository;
  readonly consents: ConsentRepository;
  readonly accounts: AccountRepository;

  constructor(private readonly driver: StoreDriver) {
    this.kind = driver.kind;
    this.avatars = driver.avatars;
    this.users = new Users(driver, driver.collection('users'), driver.collection('identities'));
    this.sessions = new Sessions(driver.collection('sessions'));
    this.accessTokens = new AccessTokens(driver, driver.collection('access_tokens'));
    this.rewards = new Rewards(driver, driver.collection('rewards'));
    this.consents = new Consents(driver, driver.collection('consents'));
    this.accounts = new Accounts(driver, this);
  }

  ping(): Promise<void> {
    return this.driver.ping();
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  async exportDocuments(): Promise<Record<StoreCollection, unknown[]>> {
    const entries = await Promise.all(
      STORE_COLLECTIONS.map(async (name) => [name, await this.driver.collection(name).find({})]),
    );
    return Object.fromEntries(entries) as Record<StoreCollection, unknown[]>;
  }
}

/** The identity a login was upserting was erased meanwhile (see Users.ensureUser). */
class IdentityErased extends Error {}

class Users implements UserRepository {
  constructor(
    private readonly driver: StoreDriver,
    private readonly users: CollectionPort<UserDoc>,
    private readonly identities: CollectionPort<IdentityDoc>,
  ) {}

  async upsertLogin(input: LoginUpsertInput): Promise<LoginUpsertResult> {
    // An erasure of this person's account may remove the identity under our feet (see
    // ensureUser): then start over, which makes a new identity and user.
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.upsertLoginOnce(input);
      } catch (error) {
        if (!(error instanceof IdentityErased) || attempt >= 2) throw error;
      }
    }
  }

  private async upsertLoginOnce(input: LoginUpsertInput): Promise<LoginUpsertResult> {
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
    const ensured = await this.ensureUser(identity, input, linked?._id);
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
    linkedUserId: string | undefined,
  ): Promise<{ user: UserDoc; created: boolean }> {
    const existing = await this.users.findOne({ _id: identity.userId });
    if (existing) return { user: existing, created: false };
    // The unionid's user this identity was linked to is gone (erased meanwhile): the identity
    // moves to a new user id, never the erased one brought back.
    if (linkedUserId !== undefined && identity.userId === linkedUserId) {
      const moved = await this.identities.updateOne(
        { _id: identity._id, userId: linkedUserId },
        { set: { userId: newRecordId() } },
      );
      const current = moved ?? (await this.identities.findOne({ _id: identity._id }));
      if (!current) throw new IdentityErased();
      identity.userId = current.userId;
      const adopted = await this.users.findOne({ _id: identity.userId });
      if (adopted) return { user: adopted, created: false };
    }
    // No user: a crash between the two writes of a first login (heal it), or an erasure that
    // finished after our identity upsert. An erasure deletes the identities before the user, so
    // a missing identity now means the latter: recreating the user would bring it back.
    if (!(await this.identities.findOne({ _id: identity._id }))) throw new IdentityErased();
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

  async identitiesOfUser(userId: string): Promise<IdentityRecord[]> {
    return (await this.identities.find({ userId })).map(toIdentity);
  }

  async clearFields(
    id: string,
    fields: readonly ('nickname' | 'avatarUrl' | 'phone')[],
    now: Date,
  ): Promise<UserRecord | null> {
    const unset = fields.map((field) => (field === 'phone' ? 'phone' : `profile.${field}`));
    // The avatar taken back includes one still awaiting its image check.
    if (fields.includes('avatarUrl')) unset.push('pendingAvatar');
    const doc = await this.users.updateOne({ _id: id }, { set: { updatedAt: now }, unset });
    return doc ? toUser(doc) : null;
  }

  async scheduleDeletion(
    id: string,
    deletion: AccountDeletion,
    now: Date,
  ): Promise<UserRecord | null> {
    const { requestedAt, deleteAt, reason } = deletion;
    // None pending: this one. (Each step is one conditional update: concurrent requests agree.)
    const fresh = await this.users.updateOne(
      { _id: id, 'deletion.deleteAt': { $exists: false } },
      { set: { deletion: { requestedAt, deleteAt, reason }, updatedAt: now } },
    );
    if (fresh) return toUser(fresh);
    // One pending that ends later: brought forward (never postponed, never once erasure began).
    const sooner = await this.users.updateOne(
      {
        _id: id,
        'deletion.deleteAt': { $gt: deleteAt },
        'deletion.purgeStartedAt': { $exists: false },
      },
      { set: { 'deletion.deleteAt': deleteAt, 'deletion.reason': reason, updatedAt: now } },
    );
    return sooner ? toUser(sooner) : this.findUser(id);
  }

  async cancelDeletion(id: string, now: Date): Promise<UserRecord | null> {
    const doc = await this.users.updateOne(
      { _id: id, 'deletion.deleteAt': { $gt: now }, 'deletion.purgeStartedAt': { $exists: false } },
      { set: { updatedAt: now }, unset: ['deletion'] },
    );
    return doc ? toUser(doc) : null;
  }

  async claimErasure(id: string, now: Date): Promise<UserRecord | null> {
    const doc = await this.users.updateOne(
      { _id: id, 'deletion.deleteAt': { $lte: now } },
      { set: { 'deletion.purgeStartedAt': now } },
    );
    return doc ? toUser(doc) : null;
  }

  async dueForErasure(now: Date, limit: number): Promise<string[]> {
    const due = await this.users.find({ 'deletion.deleteAt': { $lte: now } }, { limit });
    return due.map((doc) => doc._id);
  }

  async setPendingAvatar(
    id: string,
    pending: PendingAvatar,
    now: Date,
  ): Promise<UserRecord | null> {
    const { fileId, traceId, submittedAt } = pending;
    const doc = await this.users.updateOne(
      { _id: id },
      { set: { pendingAvatar: { fileId, traceId, submittedAt }, updatedAt: now } },
    );
    return doc ? toUser(doc) : null;
  }

  async findByPendingAvatar(traceId: string): Promise<UserRecord | null> {
    const [doc] = await this.users.find({ 'pendingAvatar.traceId': traceId }, { limit: 1 });
    return doc ? toUser(doc) : null;
  }

  async settlePendingAvatar(
    id: string,
    pending: Pick<PendingAvatar, 'traceId' | 'fileId'>,
    approved: boolean,
    now: Date,
  ): Promise<UserRecord | null> {
    // Conditional on the trace id: a replay, or a check a newer upload replaced, changes nothing.
    const doc = await this.users.updateOne(
      { _id: id, 'pendingAvatar.traceId': pending.traceId },
      {
        set: { ...(approved ? { 'profile.avatarUrl': pending.fileId } : {}), updatedAt: now },
        unset: ['pendingAvatar'],
      },
    );
    return doc ? toUser(doc) : null;
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

  async ofUser(userId: string): Promise<{ kind: string; grantedAt: Date }[]> {
    const docs = await this.rewards.find({ userId });
    return docs.map(({ kind, grantedAt }) => ({ kind, grantedAt }));
  }
}

class Consents implements ConsentRepository {
  constructor(
    private readonly driver: StoreDriver,
    private readonly consents: CollectionPort<ConsentDoc>,
  ) {}

  async record(consent: ConsentRecord): Promise<ConsentRecord> {
    const _id = consentKey(consent);
    try {
      await this.consents.insertOne({ _id, ...consent });
      return consent;
    } catch (error) {
      if (!this.driver.isDuplicateKey(error)) throw error;
      const existing = await this.consents.findOne({ _id });
      if (!existing) throw error;
      return toConsent(existing);
    }
  }

  async ofUser(userId: string): Promise<ConsentRecord[]> {
    return (await this.consents.find({ userId })).map(toConsent);
  }
}

/** The collections of one user, read together and erased in a safe order. */
class Accounts implements AccountRepository {
  constructor(
    private readonly driver: StoreDriver,
    private readonly store: PortStore,
  ) {}

  async collect(userId: string): Promise<AccountRecords | null> {
    const user = await this.store.users.findUser(userId);
    if (!user) return null;
    const [identities, sessions, rewards, consents, avatars] = await Promise.all([
      this.store.users.identitiesOfUser(userId),
      this.store.sessions.activeOfUser(userId, new Date(0)),
      this.store.rewards.ofUser(userId),
      this.store.consents.ofUser(userId),
      this.store.avatars.ofUser(userId),
    ]);
    return { user, identities, sessions, rewards, consents, avatars };
  }

  async erase(userId: string): Promise<void> {
    const collection = (name: CollectionName) => this.driver.collection(name);
    /** Everything keyed by the user id but the identities and the user record. */
    const deleteOwned = async () => {
      await collection('sessions').deleteMany({ userId });
      await this.store.avatars.prune(userId, 0, []); // every upload of the user
      await collection('rewards').deleteMany({ userId });
      await collection('consents').deleteMany({ userId });
    };
    // Identities first: from here on a login of this person makes a new user.
    await collection('identities').deleteMany({ userId });
    await deleteOwned();
    await collection('users').deleteOne({ _id: userId });
    // A request that checked its session before the erasure began may have written since (a
    // racing login's session, a reward, a consent, an upload): once more, now that the user is
    // gone and no session of it verifies any more.
    await deleteOwned();
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

  async activeOfUser(userId: string, now: Date): Promise<SessionRecord[]> {
    const docs = await this.sessions.find({ userId, expiresAt: { $gt: now } });
    return docs.map(({ _id, ...rest }) => ({ id: _id, ...rest }));
  }

  async deleteOfUser(id: string, userId: string): Promise<boolean> {
    return this.sessions.deleteOne({ _id: id, userId });
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
