/**
 * The driver port: the little a database must do for the repositories (repositories.ts), which
 * hold every rule of the data (login upsert, unionid adoption, grant-once, sessions, the lease's
 * use) once. A driver (SQLite, MongoDB, the cloud database) holds only driver code, its schema or
 * indexes, and open/close.
 */
import type { AvatarRepository, StoreCollection, StoreKind } from './types.js';
import type { IdentityDoc } from './documents.js';

export type CollectionName = StoreCollection;

/** A condition on one field. `$exists: false` also matches a field set to null by a driver. */
export type Condition = { $exists: boolean } | { $gt: Date } | { $lte: Date };

export function isCondition(value: unknown): value is Condition {
  return typeof value === 'object' && value !== null && !(value instanceof Date);
}

/**
 * Equality or one condition per field, all of which must hold. Keys are document fields
 * (`_id`, `userId`, ...); drivers map them to their own columns or paths.
 */
export type Filter = Readonly<Record<string, string | Date | Condition>>;

/**
 * What an update changes. `set` keys are fields or dotted paths into an object field
 * (`profile.nickname`); setting an object field replaces it whole. `unset` removes fields.
 */
export interface Change {
  set?: Readonly<Record<string, unknown>>;
  unset?: readonly string[];
}

/** One collection (or table) as the repositories see it. Every call is one atomic step. */
export interface CollectionPort<T extends { _id: string }> {
  findOne(filter: Filter): Promise<T | null>;
  /** Matching documents in no particular order, at most `limit` (default: all). */
  find(filter: Filter, options?: { limit?: number }): Promise<T[]>;
  /** Raises the driver's own duplicate-key error (see `StoreDriver.isDuplicateKey`) on a clash. */
  insertOne(doc: T): Promise<void>;
  /**
   * Applies `change` to one document matching `filter` and returns it as it is afterwards, or null
   * when none matched. With `upsert` (the filter must then be exactly `{ _id }`), a missing
   * document is created from the `_id` and `set`.
   */
  updateOne(filter: Filter, change: Change, options?: { upsert?: boolean }): Promise<T | null>;
  deleteOne(filter: Filter): Promise<boolean>;
  /** How many were deleted. */
  deleteMany(filter: Filter): Promise<number>;
}

/** The two operations whose atomic form differs per database. */
export interface StoreDriver {
  readonly kind: StoreKind;
  readonly avatars: AvatarRepository;
  collection<T extends { _id: string }>(name: CollectionName): CollectionPort<T>;
  isDuplicateKey(error: unknown): boolean;
  /**
   * Atomically: the identity of (appid, openid) with `set` applied, or `onInsert` (with `set`)
   * created when there was none. Any number of concurrent calls yield one identity. (A driver may
   * give the identity an `_id` of its own.)
   */
  upsertIdentity(
    key: { appid: string; openid: string },
    set: Partial<IdentityDoc>,
    onInsert: IdentityDoc,
  ): Promise<IdentityDoc>;
  /**
   * Takes the access-token refresh lease of `appid` for `holder` until `until` if nobody holds it
   * or the holder's lease ran out at `now`; exactly one of any number of concurrent callers (in
   * every process sharing the database) gets true.
   */
  acquireLease(appid: string, holder: string, until: Date, now: Date): Promise<boolean>;
  /** Resolves when the database answers; throws store_unavailable otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
