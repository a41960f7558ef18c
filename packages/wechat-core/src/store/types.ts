/**
 * Repository interfaces: what the use-cases need from a database, nothing more. They are written
 * once (repositories.ts) over a small driver port (port.ts); each driver (SQLite, MongoDB, the
 * cloud database) passes one contract suite. Any failure of the database itself surfaces as
 * WechatAuthError('store_unavailable').
 */

export interface UserProfile {
  nickname?: string;
  avatarUrl?: string;
}

export interface VerifiedPhone {
  purePhoneNumber: string;
  countryCode: string;
  verifiedAt: Date;
}

/**
 * A deletion the user asked for (or WeChat reported: the person deleted their WeChat account).
 * Until `deleteAt` it can be cancelled; from then on the account is erased (a sweep, or the next
 * login of the user), and `purgeStartedAt` marks an erasure under way, which nothing cancels.
 */
export interface AccountDeletion {
  requestedAt: Date;
  deleteAt: Date;
  reason: 'requested' | 'wechat_account_cancelled';
  purgeStartedAt?: Date;
}

/**
 * A cloud avatar (a cloud storage file ID) awaiting WeChat's image check: it goes on the profile
 * only when the wxa_media_check event with this trace id says pass.
 */
export interface PendingAvatar {
  fileId: string;
  traceId: string;
  submittedAt: Date;
}

export interface UserRecord {
  id: string;
  unionid?: string;
  profile: UserProfile;
  phone?: VerifiedPhone;
  /** Present while a deletion is pending. */
  deletion?: AccountDeletion;
  /** Present while a cloud avatar awaits WeChat's image check (one at a time: the newest). */
  pendingAvatar?: PendingAvatar;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * An Official Account user's own web-authorization tokens (never one token for everybody).
 * Server-only, like the session_key.
 */
export interface OAuthTokens {
  accessToken: string;
  /** Our clock at arrival + expires_in. */
  accessTokenExpiresAt: Date;
  refreshToken: string;
  /** 30 days after the grant that issued it (refreshing does not extend it). */
  refreshTokenExpiresAt: Date;
  scope: string;
}

/**
 * One per (appid, openid). The session_key and OAuth tokens are server-only and never leave the
 * store's callers.
 */
export interface IdentityRecord {
  appid: string;
  openid: string;
  userId: string;
  unionid?: string;
  sessionKey?: string;
  sessionKeyAt?: Date;
  oauth?: OAuthTokens;
  createdAt: Date;
}

export interface SessionRecord {
  /** Public session id: the part of the token before the dot. */
  id: string;
  /** SHA-256 of the token's secret part; the secret itself is never stored. */
  secretHash: Uint8Array;
  userId: string;
  appid: string;
  createdAt: Date;
  expiresAt: Date;
  lastVerifiedAt: Date;
}

export interface CachedAccessToken {
  appid: string;
  accessToken: string;
  /** Our own clock when the token arrived. */
  obtainedAt: Date;
  /** obtainedAt + expires_in: a duration from WeChat turned into our clock, never WeChat's. */
  expiresAt: Date;
  /** When a refresh should start (before expiresAt). */
  refreshAt: Date;
}

export interface LoginUpsertInput {
  appid: string;
  openid: string;
  unionid?: string | undefined;
  /** Absent in the cloud runtime, where WeChat never hands the function a session_key. */
  sessionKey?: string;
  /** An Official Account web login's tokens, stored with the identity. */
  oauth?: OAuthTokens;
  now: Date;
}

/**
 * A unionid WeChat reported for an identity whose user could not take it: another user already
 * holds it, or this user holds a different one. Both users are kept apart (no silent merge).
 */
export interface UnionidConflict {
  unionid: string;
  /** The user the identity belongs to. */
  userId: string;
  /** The other user that holds this unionid; absent when `userId` holds a different unionid. */
  heldByUserId?: string;
}

export interface LoginUpsertResult {
  user: UserRecord;
  identity: IdentityRecord;
  /** True only for the call that created the user. */
  isNewUser: boolean;
  /** Set when a unionid appeared on an existing identity and could not be linked. */
  unionidConflict?: UnionidConflict;
}

export interface UserRepository {
  /**
   * Makes sure an identity for (appid, openid) exists and points at an existing user, and records
   * the new session_key. Safe under any number of concurrent calls for the same openid: exactly one
   * user and one identity come out. Never find-then-insert.
   */
  upsertLogin(input: LoginUpsertInput): Promise<LoginUpsertResult>;
  findUser(id: string): Promise<UserRecord | null>;
  /** Sets the given fields of the profile (absent fields are left as they are). */
  updateProfile(id: string, profile: UserProfile, now: Date): Promise<UserRecord | null>;
  setPhone(id: string, phone: VerifiedPhone, now: Date): Promise<UserRecord | null>;
  findIdentity(appid: string, openid: string): Promise<IdentityRecord | null>;
  /** The user's identity in one app (a user has at most one openid per app). */
  findIdentityOfUser(userId: string, appid: string): Promise<IdentityRecord | null>;
  /** Replaces the identity's OAuth tokens (after a refresh); false when there is no identity. */
  saveOAuthTokens(appid: string, openid: string, tokens: OAuthTokens): Promise<boolean>;
  /** Every identity of the user (one per app). */
  identitiesOfUser(userId: string): Promise<IdentityRecord[]>;
  /**
   * Removes profile fields (nickname, avatar: WeChat reported the user revoked them) and/or the
   * phone; null when there is no such user. Clearing the avatar drops a pending one too.
   */
  clearFields(
    id: string,
    fields: readonly ('nickname' | 'avatarUrl' | 'phone')[],
    now: Date,
  ): Promise<UserRecord | null>;
  /**
   * Schedules the user's deletion: sets `deletion` when none is pending, or moves a pending one
   * earlier when `deletion.deleteAt` comes sooner (never later). Null when there is no such user.
   */
  scheduleDeletion(id: string, deletion: AccountDeletion, now: Date): Promise<UserRecord | null>;
  /**
   * Cancels a pending deletion while `deleteAt` is still ahead of `now` and no erasure started;
   * null when there was none to cancel (atomically: an erasure and a cancel never both win).
   */
  cancelDeletion(id: string, now: Date): Promise<UserRecord | null>;
  /**
   * Marks the erasure of a user whose `deleteAt` has come (or resumes one under way); null when
   * the user is not due (cancelled, not yet, or gone).
   */
  claimErasure(id: string, now: Date): Promise<UserRecord | null>;
  /** Ids of users whose deletion is due at `now`, at most `limit`. */
  dueForErasure(now: Date, limit: number): Promise<string[]>;
  /** Puts a cloud avatar up for WeChat's image check, in place of any earlier one pending. */
  setPendingAvatar(id: string, pending: PendingAvatar, now: Date): Promise<UserRecord | null>;
  /** The user whose pending avatar has this trace id. */
  findByPendingAvatar(traceId: string): Promise<UserRecord | null>;
  /**
   * Ends the image check of `pending` (as read from the user): `approved`, its file goes on the
   * profile; else it is dropped. One update, conditional on the trace id: null when that check is
   * no longer pending (settled, or replaced by a newer one).
   */
  settlePendingAvatar(
    id: string,
    pending: Pick<PendingAvatar, 'traceId' | 'fileId'>,
    approved: boolean,
    now: Date,
  ): Promise<UserRecord | null>;
}

export interface RewardGrant {
  /** True only for the one call that granted it. */
  granted: boolean;
  /** When it was granted (by this call or an earlier one). */
  grantedAt: Date;
}

/** One-time rewards per user: a unique key per (kind, user), never read-then-write. */
export interface RewardRepository {
  /** Grants `kind` to the user unless already granted; exactly one concurrent caller wins. */
  grantOnce(userId: string, kind: string, now: Date): Promise<RewardGrant>;
  /** The user's rewards. */
  ofUser(userId: string): Promise<{ kind: string; grantedAt: Date }[]>;
}

/** A user's agreement to a document (the mini-program's privacy guidelines), as they reported it. */
export interface ConsentRecord {
  userId: string;
  /** What was agreed to; `privacy` is the mini-program's privacy guidelines (隐私保护指引). */
  kind: string;
  /** The version of the document, as the client names it. */
  version: string;
  /** The app the agreement was given in. */
  appid: string;
  /** When the user agreed, as their client reported it. */
  agreedAt: Date;
  /** When we received it. */
  recordedAt: Date;
}

/** One record per (user, kind, version): reporting the same agreement again changes nothing. */
export interface ConsentRepository {
  /** Keeps the first report of this (user, kind, version); returns the kept record. */
  record(consent: ConsentRecord): Promise<ConsentRecord>;
  ofUser(userId: string): Promise<ConsentRecord[]>;
}

/**
 * Everything of one user across the collections: read for an export, deleted at erasure. Order
 * of erasure: identities first (a login from then on makes a new user), the user record last (an
 * erasure cut short is resumed: the user still says it is due).
 */
export interface AccountRecords {
  user: UserRecord;
  identities: IdentityRecord[];
  sessions: SessionRecord[];
  rewards: { kind: string; grantedAt: Date }[];
  consents: ConsentRecord[];
  avatars: { id: string; createdAt: Date }[];
}

export interface AccountRepository {
  /** Every record of the user; null when there is no such user. */
  collect(userId: string): Promise<AccountRecords | null>;
  /**
   * Deletes every record of the user, the user record last, then its sessions once more (a login
   * that raced the erasure may have added one). Safe to run again after a failure.
   */
  erase(userId: string): Promise<void>;
}

export interface SessionRepository {
  insert(session: SessionRecord): Promise<void>;
  /** The session if it exists and has not expired at `now`; an expired one is never returned. */
  findActive(id: string, now: Date): Promise<SessionRecord | null>;
  /** Slides the expiry forward. */
  extend(id: string, expiresAt: Date, lastVerifiedAt: Date): Promise<void>;
  /** True when a session was deleted. */
  delete(id: string): Promise<boolean>;
  /** Deletes every session of a user; returns how many. */
  deleteAllOfUser(userId: string): Promise<number>;
  /** The user's sessions that have not expired at `now`. */
  activeOfUser(userId: string, now: Date): Promise<SessionRecord[]>;
  /** Deletes one session if it is the user's; false otherwise. */
  deleteOfUser(id: string, userId: string): Promise<boolean>;
}

export interface AccessTokenRepository {
  get(appid: string): Promise<CachedAccessToken | null>;
  /**
   * Takes the refresh lease for an appid if nobody holds it or the holder's lease ran out.
   * Exactly one of any number of concurrent callers (across processes) gets true.
   */
  acquireLease(appid: string, holder: string, until: Date, now: Date): Promise<boolean>;
  /** Stores a fresh token and releases the holder's lease. */
  save(token: CachedAccessToken, holder: string): Promise<void>;
  releaseLease(appid: string, holder: string): Promise<void>;
}

export interface StoredAvatar {
  bytes: Uint8Array;
  contentType: string;
  /**
   * Present while WeChat's image check (mediaCheckAsync) has not passed it: such an avatar is
   * served only to its owner and to WeChat's downloader (with `checkKey`).
   */
  review?: AvatarReview;
}

export interface AvatarReview {
  /** The secret in the URL WeChat downloads the image from. */
  checkKey: string;
  /** WeChat's id of the check, matched by the wxa_media_check event. */
  traceId?: string;
}

/** Uploaded avatar images, by a random id that is also their public name. */
export interface AvatarRepository {
  /** Stores an image uploaded by `userId`; nothing is left behind when it fails. */
  save(id: string, avatar: StoredAvatar, owner: { userId: string; now: Date }): Promise<void>;
  find(id: string): Promise<StoredAvatar | null>;
  /** Who uploaded it; undefined when unknown (no such avatar, or stored before owners were kept). */
  owner(id: string): Promise<string | undefined>;
  /**
   * Deletes the user's uploads but the newest `keep` and those in `protect` (the one the profile
   * shows); returns how many were deleted.
   */
  prune(userId: string, keep: number, protect: readonly string[]): Promise<number>;
  /** The user's uploads, newest first. */
  ofUser(userId: string): Promise<{ id: string; createdAt: Date }[]>;
  /** Deletes one avatar (whoever uploaded it); false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Records the trace id of the avatar's image check. */
  setTraceId(id: string, traceId: string): Promise<void>;
  /** The avatar whose image check has this trace id. */
  findByTraceId(traceId: string): Promise<{ id: string; userId: string } | null>;
  /** The image check passed: the avatar is served to everyone. False when there is none. */
  approve(id: string): Promise<boolean>;
}

/** `embedded` is the SQLite file under DATA_DIR; `cloud` the WeChat cloud database. */
export type StoreKind = 'mongo' | 'embedded' | 'cloud';

export interface Store {
  readonly kind: StoreKind;
  readonly users: UserRepository;
  readonly avatars: AvatarRepository;
  readonly sessions: SessionRepository;
  readonly accessTokens: AccessTokenRepository;
  readonly rewards: RewardRepository;
  readonly consents: ConsentRepository;
  readonly accounts: AccountRepository;
  /** Resolves when the database answers; throws store_unavailable otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Every stored document by collection, as the repositories see them; for support tooling. */
  exportDocuments(): Promise<Record<StoreCollection, unknown[]>>;
}

/** Every collection (table) of the store, in the order an export lists them. */
export const STORE_COLLECTIONS = [
  'users',
  'identities',
  'sessions',
  'access_tokens',
  'rewards',
  'consents',
] as const;
export type StoreCollection = (typeof STORE_COLLECTIONS)[number];
