/**
 * Document shapes shared by the MongoDB and embedded adapters (the embedded store mirrors the
 * MongoDB data model), and their mapping to the repository records.
 */
import type {
  CachedAccessToken,
  IdentityRecord,
  OAuthTokens,
  UnionidConflict,
  UserProfile,
  UserRecord,
  VerifiedPhone,
} from './types.js';

export interface UserDoc {
  _id: string;
  unionid?: string;
  profile: UserProfile;
  phone?: VerifiedPhone;
  createdAt: Date;
  updatedAt: Date;
}

/** An identity as stored: the record's fields under a generated `_id`. */
export interface IdentityDoc extends IdentityRecord {
  _id: string;
}

/** `_id` is `<kind>:<userId>`: the unique key that makes a grant happen once. */
export interface RewardDoc {
  _id: string;
  userId: string;
  kind: string;
  grantedAt: Date;
}

export function rewardKey(userId: string, kind: string): string {
  return `${kind}:${userId}`;
}

/** Sessions store the hash as Binary in MongoDB and as base64 text in the embedded store. */
export interface SessionDoc<THash> {
  _id: string;
  secretHash: THash;
  userId: string;
  appid: string;
  createdAt: Date;
  expiresAt: Date;
  lastVerifiedAt: Date;
}

export interface AccessTokenDoc {
  _id: string;
  accessToken?: string;
  obtainedAt?: Date;
  expiresAt?: Date;
  refreshAt?: Date;
  leaseHolder?: string;
  leaseUntil?: Date;
}

export function toUser(doc: UserDoc): UserRecord {
  return {
    id: doc._id,
    ...(doc.unionid ? { unionid: doc.unionid } : {}),
    profile: { ...doc.profile },
    ...(doc.phone ? { phone: { ...doc.phone } } : {}),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export function toIdentity(doc: IdentityDoc): IdentityRecord {
  return {
    appid: doc.appid,
    openid: doc.openid,
    userId: doc.userId,
    ...(doc.unionid ? { unionid: doc.unionid } : {}),
    ...(doc.sessionKey ? { sessionKey: doc.sessionKey } : {}),
    ...(doc.sessionKeyAt ? { sessionKeyAt: doc.sessionKeyAt } : {}),
    ...(doc.oauth ? { oauth: { ...doc.oauth } } : {}),
    createdAt: doc.createdAt,
  };
}

export function newUserDoc(id: string, unionid: string | undefined, now: Date): UserDoc {
  return { _id: id, ...(unionid ? { unionid } : {}), profile: {}, createdAt: now, updatedAt: now };
}

/**
 * The $set part of a login upsert: the fresh session_key or OAuth tokens, and a unionid WeChat
 * now reports.
 */
export function identityLoginFields(input: {
  unionid?: string;
  sessionKey?: string;
  oauth?: OAuthTokens;
  now: Date;
}): Partial<IdentityDoc> {
  return {
    ...(input.sessionKey ? { sessionKey: input.sessionKey, sessionKeyAt: input.now } : {}),
    ...(input.oauth ? { oauth: input.oauth } : {}),
    ...(input.unionid ? { unionid: input.unionid } : {}),
  };
}

/** `{ "profile.nickname": ... }` for the fields present, so absent ones are left alone. */
export function profileSetFields(profile: UserProfile): Record<string, string> {
  const set: Record<string, string> = {};
  if (profile.nickname !== undefined) set['profile.nickname'] = profile.nickname;
  if (profile.avatarUrl !== undefined) set['profile.avatarUrl'] = profile.avatarUrl;
  return set;
}

/** A cached token from its document, or null while none was stored. */
export function toCachedToken(doc: AccessTokenDoc | null): CachedAccessToken | null {
  if (!doc?.accessToken || !doc.obtainedAt || !doc.expiresAt || !doc.refreshAt) return null;
  return {
    appid: doc._id,
    accessToken: doc.accessToken,
    obtainedAt: doc.obtainedAt,
    expiresAt: doc.expiresAt,
    refreshAt: doc.refreshAt,
  };
}

/** What adoptUnionid needs from an adapter: three calls and how it recognizes a unique violation. */
export interface UnionidOperations {
  /** Sets the user's unionid only if it has none; the updated user, or null when it had one. */
  setIfAbsent(userId: string, unionid: string, now: Date): Promise<UserDoc | null>;
  findById(userId: string): Promise<UserDoc | null>;
  findByUnionid(unionid: string): Promise<UserDoc | null>;
  isUniqueViolation(error: unknown): boolean;
}

/**
 * A unionid reported for an existing user that does not hold it: the user takes it if it has none
 * and nobody else holds it (the unique index decides, atomically). Otherwise both users stay apart
 * and the conflict is returned for the caller to report; nothing is merged.
 */
export async function adoptUnionid(
  user: UserDoc,
  unionid: string,
  now: Date,
  ops: UnionidOperations,
): Promise<{ user: UserDoc; unionidConflict?: UnionidConflict }> {
  const conflict = (heldBy?: UserDoc | null): UnionidConflict => ({
    unionid,
    userId: user._id,
    ...(heldBy && heldBy._id !== user._id ? { heldByUserId: heldBy._id } : {}),
  });
  if (user.unionid) return { user, unionidConflict: conflict() };
  try {
    const updated = await ops.setIfAbsent(user._id, unionid, now);
    if (updated) return { user: updated };
    // A concurrent login set this user's unionid first.
    const fresh = (await ops.findById(user._id)) ?? user;
    return fresh.unionid === unionid
      ? { user: fresh }
      : { user: fresh, unionidConflict: conflict() };
  } catch (error) {
    if (!ops.isUniqueViolation(error)) throw error;
    return { user, unionidConflict: conflict(await ops.findByUnionid(unionid)) };
  }
}
