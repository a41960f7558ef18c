/**
 * The SQLite store's schema: versioned migrations applied at open, and how each table's columns
 * map to the document fields the repositories use (dates as epoch milliseconds, hashes as BLOBs,
 * nested objects such as `profile` and `phone` flattened into columns).
 */
import type { CollectionName } from './port.js';

/** The database file under DATA_DIR. */
export const SQLITE_FILE = 'wxlogin.sqlite';

export type ColumnType = 'text' | 'date' | 'blob';

export interface ColumnSpec {
  /** Document field, or a dotted path into an object field (`profile.nickname`). */
  readonly path: string;
  readonly column: string;
  readonly type: ColumnType;
}

export interface TableSpec {
  readonly table: string;
  readonly columns: readonly ColumnSpec[];
  /** Object fields every document has, empty when none of their columns is set. */
  readonly objects?: readonly string[];
}

/** `INSERT INTO <table> (<every column>) VALUES (?, …)`: a whole row in spec order. */
export function insertText(spec: TableSpec): string {
  const columns = spec.columns.map((c) => c.column).join(', ');
  return `INSERT INTO ${spec.table} (${columns}) VALUES (${spec.columns.map(() => '?').join(', ')})`;
}

/** A document value as its column stores it (dates as epoch ms, bytes as a Buffer, absent as NULL). */
export function encode(type: ColumnType, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (type === 'date') return (value as Date).getTime();
  if (type === 'blob') return Buffer.from(value as Uint8Array);
  return value;
}

/** A stored (non-NULL) column value as the document's value. */
export function decode(type: ColumnType, value: unknown): unknown {
  if (type === 'date') return new Date(value as number);
  if (type === 'blob') return new Uint8Array(value as Buffer);
  return value;
}

/** The value at a field or dotted path of a document; undefined where it is absent. */
export function valueAt(doc: unknown, path: string): unknown {
  let current = doc;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const col = (path: string, column: string, type: ColumnType = 'text'): ColumnSpec => ({
  path,
  column,
  type,
});

export const TABLES: Readonly<Record<CollectionName, TableSpec>> = {
  users: {
    table: 'users',
    objects: ['profile'],
    columns: [
      col('_id', 'id'),
      col('unionid', 'unionid'),
      col('profile.nickname', 'nickname'),
      col('profile.avatarUrl', 'avatar_url'),
      col('phone.purePhoneNumber', 'phone_number'),
      col('phone.countryCode', 'phone_country_code'),
      col('phone.verifiedAt', 'phone_verified_at', 'date'),
      col('deletion.requestedAt', 'deletion_requested_at', 'date'),
      col('deletion.deleteAt', 'deletion_delete_at', 'date'),
      col('deletion.reason', 'deletion_reason'),
      col('deletion.purgeStartedAt', 'deletion_purge_started_at', 'date'),
      col('pendingAvatar.fileId', 'pending_avatar_file_id'),
      col('pendingAvatar.traceId', 'pending_avatar_trace_id'),
      col('pendingAvatar.submittedAt', 'pending_avatar_submitted_at', 'date'),
      col('createdAt', 'created_at', 'date'),
      col('updatedAt', 'updated_at', 'date'),
    ],
  },
  identities: {
    table: 'identities',
    columns: [
      col('_id', 'id'),
      col('appid', 'appid'),
      col('openid', 'openid'),
      col('userId', 'user_id'),
      col('unionid', 'unionid'),
      col('sessionKey', 'session_key'),
      col('sessionKeyAt', 'session_key_at', 'date'),
      col('oauth.accessToken', 'oauth_access_token'),
      col('oauth.accessTokenExpiresAt', 'oauth_access_token_expires_at', 'date'),
      col('oauth.refreshToken', 'oauth_refresh_token'),
      col('oauth.refreshTokenExpiresAt', 'oauth_refresh_token_expires_at', 'date'),
      col('oauth.scope', 'oauth_scope'),
      col('createdAt', 'created_at', 'date'),
    ],
  },
  sessions: {
    table: 'sessions',
    columns: [
      col('_id', 'id'),
      col('secretHash', 'secret_hash', 'blob'),
      col('userId', 'user_id'),
      col('appid', 'appid'),
      col('createdAt', 'created_at', 'date'),
      col('expiresAt', 'expires_at', 'date'),
      col('lastVerifiedAt', 'last_verified_at', 'date'),
    ],
  },
  access_tokens: {
    table: 'access_tokens',
    columns: [
      col('_id', 'appid'),
      col('accessToken', 'access_token'),
      col('obtainedAt', 'obtained_at', 'date'),
      col('expiresAt', 'expires_at', 'date'),
      col('refreshAt', 'refresh_at', 'date'),
      col('leaseHolder', 'lease_holder'),
      col('leaseUntil', 'lease_until', 'date'),
    ],
  },
  rewards: {
    table: 'rewards',
    columns: [
      col('_id', 'id'),
      col('userId', 'user_id'),
      col('kind', 'kind'),
      col('grantedAt', 'granted_at', 'date'),
    ],
  },
  consents: {
    table: 'consents',
    columns: [
      col('_id', 'id'),
      col('userId', 'user_id'),
      col('kind', 'kind'),
      col('version', 'version'),
      col('appid', 'appid'),
      col('agreedAt', 'agreed_at', 'date'),
      col('recordedAt', 'recorded_at', 'date'),
    ],
  },
};

/**
 * Migrations by version (PRAGMA user_version): version N is reached by running MIGRATIONS[N - 1].
 * Never edit a released entry; append a new one. STRICT tables refuse a value of the wrong type.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    unionid TEXT UNIQUE,
    nickname TEXT,
    avatar_url TEXT,
    phone_number TEXT,
    phone_country_code TEXT,
    phone_verified_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE identities (
    id TEXT PRIMARY KEY,
    appid TEXT NOT NULL,
    openid TEXT NOT NULL,
    user_id TEXT NOT NULL,
    unionid TEXT,
    session_key TEXT,
    session_key_at INTEGER,
    oauth_access_token TEXT,
    oauth_access_token_expires_at INTEGER,
    oauth_refresh_token TEXT,
    oauth_refresh_token_expires_at INTEGER,
    oauth_scope TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (appid, openid)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX identities_user ON identities (user_id, appid);
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL,
    user_id TEXT NOT NULL,
    appid TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_verified_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX sessions_user ON sessions (user_id);
  CREATE INDEX sessions_expiry ON sessions (expires_at);
  CREATE TABLE access_tokens (
    appid TEXT PRIMARY KEY,
    access_token TEXT,
    obtained_at INTEGER,
    expires_at INTEGER,
    refresh_at INTEGER,
    lease_holder TEXT,
    lease_until INTEGER
  ) STRICT;
  CREATE TABLE rewards (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    granted_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX rewards_user ON rewards (user_id);
  CREATE TABLE upgrades (
    name TEXT PRIMARY KEY,
    done_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 2: who uploaded each avatar file (DATA_DIR/avatars), so replaced ones can be deleted. Files
  // from before have no row: they are kept, as their owner is unknown.
  `
  CREATE TABLE avatars (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    file TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX avatars_user ON avatars (user_id, created_at);
  `,
  // 3: account deletion (pending until deleteAt, then erased by the sweep) and consent records.
  `
  ALTER TABLE users ADD COLUMN deletion_requested_at INTEGER;
  ALTER TABLE users ADD COLUMN deletion_delete_at INTEGER;
  ALTER TABLE users ADD COLUMN deletion_reason TEXT;
  ALTER TABLE users ADD COLUMN deletion_purge_started_at INTEGER;
  CREATE INDEX users_deletion ON users (deletion_delete_at) WHERE deletion_delete_at IS NOT NULL;
  CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    version TEXT NOT NULL,
    appid TEXT NOT NULL,
    agreed_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX consents_user ON consents (user_id);
  `,
  // 4: WeChat's image check of an avatar: pending while review_check_key is set.
  `
  ALTER TABLE avatars ADD COLUMN review_check_key TEXT;
  ALTER TABLE avatars ADD COLUMN review_trace_id TEXT;
  CREATE INDEX avatars_trace ON avatars (review_trace_id) WHERE review_trace_id IS NOT NULL;
  `,
  // 5: a cloud avatar awaiting WeChat's image check (kept by the cloud functions; every driver
  // keeps the same user fields and passes the same contract).
  `
  ALTER TABLE users ADD COLUMN pending_avatar_file_id TEXT;
  ALTER TABLE users ADD COLUMN pending_avatar_trace_id TEXT;
  ALTER TABLE users ADD COLUMN pending_avatar_submitted_at INTEGER;
  CREATE INDEX users_pending_avatar ON users (pending_avatar_trace_id)
    WHERE pending_avatar_trace_id IS NOT NULL;
  `,
];
