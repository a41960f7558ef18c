/**
 * The WeChat cloud database (`cloud.database()` of wx-server-sdk) as a store driver: the cloud
 * functions' default, so a deployment needs no database of its own. The cloud database has no
 * unique index but `_id` unless one is made in the console, so this driver needs none:
 *
 * - an identity's `_id` is derived from (appid, openid), so the key itself is unique;
 * - a unionid is claimed by a document `unionids/<unionid>`, written in the same transaction as
 *   the user that takes it: a second user cannot take the same unionid;
 * - rewards already have `_id` `<kind>:<userId>`;
 * - every conditional update reads and writes one document inside `runTransaction`, which fails
 *   on a concurrent change of that document (then it is tried again).
 *
 * Errors: a taken `_id` rejects with errCode -502001 and MongoDB's E11000 text (the store's own
 * duplicate-key error); anything else the service or network does is store_unavailable.
 * @see https://developers.weixin.qq.com/miniprogram/dev/wxcloud/reference-server-api/database/
 * @see https://developers.weixin.qq.com/miniprogram/dev/wxcloud/guide/database/transaction.html
 */
import { WechatAuthError } from '../errors.js';
import type { IdentityDoc } from './documents.js';
import type { Change, CollectionName, CollectionPort, Filter, StoreDriver } from './port.js';
import { isCondition } from './port.js';
import { PortStore } from './repositories.js';
import { STORE_COLLECTIONS } from './types.js';
import type { AvatarRepository, StoredAvatar } from './types.js';

// ---- The part of wx-server-sdk's database API used here (structural: no SDK import) ----

export interface CloudDocument {
  _id: string | number;
  [field: string]: unknown;
}
interface CloudDocumentRef {
  get(): Promise<{ data: CloudDocument | null }>;
  set(options: { data: Record<string, unknown> }): Promise<unknown>;
  update(options: { data: Record<string, unknown> }): Promise<{ stats: { updated: number } }>;
  remove(): Promise<{ stats: { removed: number } }>;
}
interface CloudQuery {
  where(condition: Record<string, unknown>): CloudQuery;
  orderBy(field: string, order: 'asc' | 'desc'): CloudQuery;
  limit(max: number): CloudQuery;
  skip(offset: number): CloudQuery;
  get(): Promise<{ data: CloudDocument[] }>;
  remove(): Promise<{ stats: { removed: number } }>;
}
interface CloudCollectionRef extends CloudQuery {
  doc(id: string): CloudDocumentRef;
  add(options: { data: Record<string, unknown> }): Promise<{ _id: string | number }>;
}
interface CloudTransaction {
  collection(name: string): {
    doc(id: string): CloudDocumentRef;
    add(options: { data: Record<string, unknown> }): Promise<unknown>;
  };
}
/** `cloud.database({ throwOnNotFound: false })`: a missing document reads as `{ data: null }`. */
export interface CloudDatabase {
  readonly command: {
    exists(value: boolean): unknown;
    gt(value: unknown): unknown;
    lte(value: unknown): unknown;
    remove(): unknown;
  };
  collection(name: string): CloudCollectionRef;
  createCollection(name: string): Promise<unknown>;
  runTransaction<T>(
    callback: (transaction: CloudTransaction) => Promise<T>,
    times?: number,
  ): Promise<T>;
}

// ---- Errors ----

function errorText(error: unknown): string {
  const e = error as { message?: unknown; errMsg?: unknown; code?: unknown } | null;
  return [e?.message, e?.errMsg, e?.code].filter((v) => typeof v === 'string').join(' ');
}

export function isCloudDuplicateKey(error: unknown): boolean {
  return /E11000|duplicate key/i.test(errorText(error));
}

function isConflict(error: unknown): boolean {
  return /TRANSACTION_CONFLICT|TransactionConflict|WriteConflict|write conflict/i.test(
    errorText(error),
  );
}

function isCollectionExists(error: unknown): boolean {
  return /ALREADY_EXIST|already exists/i.test(errorText(error));
}

async function guard<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WechatAuthError || isCloudDuplicateKey(error)) throw error;
    throw new WechatAuthError('store_unavailable', `cloud database: ${what} failed`, {
      cause: error,
    });
  }
}

/** Runs `work` in a transaction, again when another writer changed the same document first. */
async function transact<T>(
  db: CloudDatabase,
  what: string,
  work: (transaction: CloudTransaction) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await guard(what, () => db.runTransaction(work, 1));
    } catch (error) {
      const cause = error instanceof WechatAuthError ? error.cause : error;
      if (attempt >= 20 || !isConflict(cause)) throw error;
      // Jittered, growing pauses so that a crowd on one document thins out.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)),
      );
    }
  }
}

// ---- Documents ----

function same(a: unknown, b: unknown): boolean {
  return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
}

/** The filter checked on a document in hand (after a read by `_id` or inside a transaction). */
function matches(doc: Record<string, unknown>, filter: Filter): boolean {
  return Object.entries(filter).every(([field, expected]) => {
    // A dotted field is a path into an object field (`deletion.deleteAt`).
    let value: unknown = doc;
    for (const key of field.split('.')) {
      value =
        value !== null && typeof value === 'object'
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    if (!isCondition(expected)) return same(value, expected);
    if ('$exists' in expected) return (value !== undefined && value !== null) === expected.$exists;
    if (!(value instanceof Date)) return false;
    return '$gt' in expected
      ? value.getTime() > expected.$gt.getTime()
      : value.getTime() <= expected.$lte.getTime();
  });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = target;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    const copy: Record<string, unknown> = next && typeof next === 'object' ? { ...next } : {};
    at[key] = copy;
    at = copy;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete at[last];
  else at[last] = value;
}

interface CollectionOptions {
  /** Fields holding bytes, kept as base64 text (the service stores no Binary from the SDK). */
  binary?: readonly string[];
  /** Fields whose values together are the document's `_id` (a unique key without an index). */
  key?: readonly string[];
  /** A field that is unique when present, claimed through documents of this collection. */
  unique?: { field: string; claims: string };
}

export function keyId(values: readonly string[]): string {
  return values.join(':');
}

class CloudCollection<T extends { _id: string }> implements CollectionPort<T> {
  constructor(
    private readonly db: CloudDatabase,
    private readonly name: string,
    private readonly options: CollectionOptions = {},
  ) {}

  private get ref(): CloudCollectionRef {
    return this.db.collection(this.name);
  }

  toStored(doc: Record<string, unknown>): Record<string, unknown> {
    const stored = { ...doc };
    for (const field of this.options.binary ?? []) {
      const value = stored[field];
      if (value instanceof Uint8Array) stored[field] = Buffer.from(value).toString('base64');
    }
    return stored;
  }

  fromStored(doc: CloudDocument | null): T | null {
    if (!doc) return null;
    const out: Record<string, unknown> = { ...doc, _id: String(doc._id) };
    for (const field of this.options.binary ?? []) {
      const value = out[field];
      if (typeof value === 'string') out[field] = new Uint8Array(Buffer.from(value, 'base64'));
    }
    return out as T;
  }

  /** The `_id` a filter pins down: its own, or the one its key fields make. */
  private idOf(filter: Filter): string | undefined {
    if (typeof filter._id === 'string') return filter._id;
    const key = this.options.key;
    if (!key?.every((field) => typeof filter[field] === 'string')) return undefined;
    return keyId(key.map((field) => filter[field] as string));
  }

  private query(filter: Filter): Record<string, unknown> {
    const _ = this.db.command;
    return Object.fromEntries(
      Object.entries(filter).map(([field, value]) => {
        if (!isCondition(value)) return [field, value];
        if ('$exists' in value) return [field, _.exists(value.$exists)];
        return [field, '$gt' in value ? _.gt(value.$gt) : _.lte(value.$lte)];
      }),
    );
  }

  async findOne(filter: Filter): Promise<T | null> {
    const unique = this.options.unique;
    const claimed = unique && filter[unique.field];
    if (unique && typeof claimed === 'string' && Object.keys(filter).length === 1) {
      // By its claim: one read by _id, no index needed.
      const { data: claim } = await guard(`read ${unique.claims}`, () =>
        this.db.collection(unique.claims).doc(claimed).get(),
      );
      if (typeof claim?.owner !== 'string') return null;
      return this.findOne({ _id: claim.owner, [unique.field]: claimed });
    }
    const id = this.idOf(filter);
    if (id !== undefined) {
      const { data } = await guard(`read ${this.name}`, () => this.ref.doc(id).get());
      const doc = this.fromStored(data);
      return doc && matches(doc, filter) ? doc : null;
    }
    const { data } = await guard(`query ${this.name}`, () =>
      this.ref.where(this.query(filter)).limit(1).get(),
    );
    return this.fromStored(data[0] ?? null);
  }

  async find(filter: Filter, options: { limit?: number } = {}): Promise<T[]> {
    // The service answers at most 1,000 documents a call: page through by _id.
    const out: T[] = [];
    const wanted = options.limit ?? Number.POSITIVE_INFINITY;
    while (out.length < wanted) {
      const page = Math.min(1000, wanted - out.length);
      const { data } = await guard(`query ${this.name}`, () =>
        this.ref.where(this.query(filter)).orderBy('_id', 'asc').skip(out.length).limit(page).get(),
      );
      for (const doc of data) out.push(this.fromStored(doc) as T);
      if (data.length < page) break;
    }
    return out;
  }

  async insertOne(doc: T): Promise<void> {
    const unique = this.options.unique;
    const claimed = unique ? doc[unique.field as keyof T] : undefined;
    if (unique && typeof claimed === 'string') {
      // The claim and the document in one transaction: both or neither.
      await transact(this.db, `insert into ${this.name}`, async (tx) => {
        await tx.collection(unique.claims).add({ data: { _id: claimed, owner: doc._id } });
        await tx.collection(this.name).add({ data: this.toStored(doc) });
      });
      return;
    }
    await guard(`insert into ${this.name}`, () => this.ref.add({ data: this.toStored(doc) }));
  }

  async updateOne(filter: Filter, change: Change, options: { upsert?: boolean } = {}) {
    const unique = this.options.unique?.field;
    const touchesUnique =
      unique !== undefined &&
      (Object.keys(change.set ?? {}).includes(unique) || (change.unset ?? []).includes(unique));
    const byIdOnly =
      Object.keys(filter).length === 1 && typeof filter._id === 'string' && !options.upsert;
    if (byIdOnly && !touchesUnique) return this.updateById(filter._id as string, change);
    let id = this.idOf(filter);
    if (id === undefined) {
      const found = await this.findOne(filter);
      if (!found) return null;
      id = found._id;
    }
    const target = id;
    return transact(this.db, `update ${this.name}`, async (tx) => {
      const ref = tx.collection(this.name).doc(target);
      const before = this.fromStored((await ref.get()).data);
      if (before ? !matches(before, filter) : !options.upsert) return null;
      const after: Record<string, unknown> = { ...(before ?? { _id: target }) };
      for (const [path, value] of Object.entries(change.set ?? {})) setPath(after, path, value);
      for (const path of change.unset ?? []) setPath(after, path, undefined);
      const unique = this.options.unique;
      if (unique) {
        const was = before?.[unique.field as keyof T];
        const now = after[unique.field];
        if (typeof now === 'string' && now !== was) {
          await tx.collection(unique.claims).add({ data: { _id: now, owner: target } });
        }
      }
      const { _id, ...data } = this.toStored(after);
      // set replaces the document whole: fields unset above are gone, nothing else changes. A
      // document left with no field is removed (the service refuses to set an empty one).
      if (Object.keys(data).length === 0) await ref.remove();
      else await ref.set({ data });
      return after as T;
    });
  }

  /**
   * A plain update by `_id` needs no transaction: one update (atomic on the document; nested
   * objects merge field by field, `_.remove()` unsets) and a read of the result.
   */
  private async updateById(id: string, change: Change): Promise<T | null> {
    const data: Record<string, unknown> = {};
    for (const [path, value] of Object.entries(this.toStored({ ...change.set }))) {
      setPath(data, path, value);
    }
    for (const path of change.unset ?? []) setPath(data, path, this.db.command.remove());
    const ref = this.ref.doc(id);
    if (Object.keys(data).length > 0) {
      await guard(`update ${this.name}`, () => ref.update({ data }));
    }
    return this.fromStored((await guard(`read ${this.name}`, () => ref.get())).data);
  }

  async deleteOne(filter: Filter): Promise<boolean> {
    const id = this.idOf(filter) ?? (await this.findOne(filter))?._id;
    if (id === undefined) return false;
    return transact(this.db, `delete from ${this.name}`, async (tx) => {
      const ref = tx.collection(this.name).doc(id);
      const before = this.fromStored((await ref.get()).data);
      if (!before || !matches(before, filter)) return false;
      // A unique field's claim goes with the document, or the value stays taken by nobody.
      const unique = this.options.unique;
      const claimed = unique ? before[unique.field as keyof T] : undefined;
      if (unique && typeof claimed === 'string')
        await tx.collection(unique.claims).doc(claimed).remove();
      return (await ref.remove()).stats.removed > 0;
    });
  }

  async deleteMany(filter: Filter): Promise<number> {
    const { stats } = await guard(`delete from ${this.name}`, () =>
      this.ref.where(this.query(filter)).remove(),
    );
    return stats.removed;
  }
}

const COLLECTION_OPTIONS: Readonly<Record<CollectionName, CollectionOptions>> = {
  users: { unique: { field: 'unionid', claims: 'unionids' } },
  identities: { key: ['appid', 'openid'] },
  sessions: { binary: ['secretHash'] },
  access_tokens: {},
  rewards: {},
  consents: {},
};

/** Avatars live in cloud storage (`wx.cloud.uploadFile`); the database keeps only file IDs. */
class NoAvatarFiles implements AvatarRepository {
  save(): Promise<void> {
    return Promise.reject(
      new WechatAuthError(
        'bad_request',
        'upload avatars to cloud storage with wx.cloud.uploadFile',
      ),
    );
  }

  find(): Promise<StoredAvatar | null> {
    return Promise.resolve(null);
  }

  owner(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  /** Nothing stored here to prune: cloud storage files belong to the mini-program. */
  prune(): Promise<number> {
    return Promise.resolve(0);
  }

  ofUser(): Promise<{ id: string; createdAt: Date }[]> {
    return Promise.resolve([]);
  }

  /** Cloud storage files are deleted by the cloud function (cloud.deleteFile), not the store. */
  delete(): Promise<boolean> {
    return Promise.resolve(false);
  }

  setTraceId(): Promise<void> {
    return Promise.resolve();
  }

  findByTraceId(): Promise<{ id: string; userId: string } | null> {
    return Promise.resolve(null);
  }

  approve(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

class CloudDriver implements StoreDriver {
  readonly kind = 'cloud' as const;
  readonly avatars = new NoAvatarFiles();
  private readonly collections = new Map<CollectionName, CloudCollection<{ _id: string }>>();

  constructor(private readonly db: CloudDatabase) {}

  collection<T extends { _id: string }>(name: CollectionName): CloudCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new CloudCollection(this.db, name, COLLECTION_OPTIONS[name]);
      this.collections.set(name, collection);
    }
    return collection as unknown as CloudCollection<T>;
  }

  isDuplicateKey(error: unknown): boolean {
    return isCloudDuplicateKey(error);
  }

  /**
   * Update-or-add on the identity's derived `_id`, without a transaction: a returning user is
   * one update and one read; of concurrent first logins one add wins and the others, refused
   * with a duplicate key, update the winner's document.
   */
  async upsertIdentity(
    key: { appid: string; openid: string },
    set: Partial<IdentityDoc>,
    onInsert: IdentityDoc,
  ): Promise<IdentityDoc> {
    const identities = this.collection<IdentityDoc>('identities');
    const id = keyId([key.appid, key.openid]);
    const ref = this.db.collection('identities').doc(id);
    const fields = identities.toStored({ ...set });
    const existing = async (): Promise<IdentityDoc | null> => {
      if (Object.keys(fields).length > 0) {
        // Field by field: the nested oauth object is always written whole.
        await guard('update identity', () => ref.update({ data: fields }));
      }
      return identities.fromStored((await guard('read identity', () => ref.get())).data);
    };
    const before = await existing();
    if (before) return before;
    const identity: IdentityDoc = { ...onInsert, ...key, ...set, _id: id };
    try {
      await guard('add identity', () =>
        this.db.collection('identities').add({ data: identities.toStored({ ...identity }) }),
      );
      return identity;
    } catch (error) {
      if (!isCloudDuplicateKey(error)) throw error;
      const winner = await existing();
      if (!winner) throw error;
      return winner;
    }
  }

  acquireLease(appid: string, holder: string, until: Date, now: Date): Promise<boolean> {
    return transact(this.db, 'acquire lease', async (tx) => {
      const ref = tx.collection('access_tokens').doc(appid);
      const before = (await ref.get()).data;
      const lease = before?.leaseUntil;
      if (lease instanceof Date && lease.getTime() > now.getTime()) return false;
      const { _id, ...rest } = before ?? { _id: appid };
      await ref.set({ data: { ...rest, leaseHolder: holder, leaseUntil: until } });
      return true;
    });
  }

  async ping(): Promise<void> {
    await guard('ping', () => this.db.collection('users').limit(1).get());
  }

  async close(): Promise<void> {
    // The SDK holds no connection of its own: nothing to close.
  }
}

/** Every collection the driver writes, created at open when missing (the service needs them). */
export const CLOUD_COLLECTIONS = [...STORE_COLLECTIONS, 'unionids'] as const;

export class CloudDatabaseStore extends PortStore {
  /**
   * A store on the cloud database. Creates the collections it uses when they are missing (once
   * per instance; the console can also create them).
   */
  static async open(db: CloudDatabase): Promise<CloudDatabaseStore> {
    for (const name of CLOUD_COLLECTIONS) {
      await guard(`create collection ${name}`, async () => {
        try {
          await db.createCollection(name);
        } catch (error) {
          if (!isCollectionExists(error)) throw error;
        }
      });
    }
    return new CloudDatabaseStore(new CloudDriver(db));
  }
}
