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

export interface UserRecord {
  id: string;
  unionid?: string;
  profile: UserProfile;
  phone?: VerifiedPhone;
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
  unionid?: string;
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
  /** Resolves when the database answers; throws store_unavailable otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Every stored document by collection, as the repositories see them; for support tooling. */
  exportDocuments(): Promise<Record<StoreCollection, unknown[]>>;
}

export type StoreCollection = 'users' | 'identities' | 'sessions' | 'access_tokens' | 'rewards';
