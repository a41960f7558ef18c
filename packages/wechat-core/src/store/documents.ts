/**
 * Document shapes every driver stores (MongoDB's data model; the SQLite tables and the cloud
 * database mirror it), and their mapping to the repository records.
 */
import type {
  CachedAccessToken,
  ConsentRecord,
  IdentityRecord,
  LoginUpsertInput,
  SessionRecord,
  UserProfile,
  UserRecord,
} from './types.js';

/** A user as the drivers store it: the record, keyed by `_id`. */
export type UserDoc = Omit<UserRecord, 'id'> & { _id: string };

/** `_id` is `<kind>:<version>:<userId>`: one record per agreement, whatever the retries. */
export interface ConsentDoc extends ConsentRecord {
  _id: string;
}

export function consentKey(consent: Pick<ConsentRecord, 'kind' | 'version' | 'userId'>): string {
  return `${consent.kind}:${consent.version}:${consent.userId}`;
}

export function toConsent(doc: ConsentDoc): ConsentRecord {
  const { userId, kind, version, appid, agreedAt, recordedAt } = doc;
  return { userId, kind, version, appid, agreedAt, recordedAt };
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

/** A session as the drivers store it; the hash is bytes in every driver (Binary, a BLOB). */
export type SessionDoc = Omit<SessionRecord, 'id'> & { _id: string };

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
    ...(doc.deletion?.deleteAt ? { deletion: { ...doc.deletion } } : {}),
    ...(doc.pendingAvatar?.traceId ? { pendingAvatar: { ...doc.pendingAvatar } } : {}),
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
export function identityLoginFields(
  input: Pick<LoginUpsertInput, 'unionid' | 'sessionKey' | 'oauth' | 'now'>,
): Partial<IdentityDoc> {
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
