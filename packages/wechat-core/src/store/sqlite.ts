/**
 * The embedded default: one SQLite file (DATA_DIR/wxlogin.sqlite) through `libsql`, whose npm
 * package ships a prebuilt engine for Linux, macOS and Windows (no compiler, no other download).
 *
 * - WAL journal, `synchronous = NORMAL`: a committed write survives the process being killed;
 *   only a power cut can lose the last commits (never corrupt the file).
 * - Several processes may share one DATA_DIR: SQLite's own locks serialise writers (busy timeout),
 *   so the access-token lease and every unique key hold across processes.
 * - Group commit: every write of one event-loop turn runs in one transaction, and no caller of
 *   that turn is answered before it commits. A commit costs ~60 µs of a write's ~75 µs alone.
 * - Expired sessions are swept periodically; reads never return them anyway.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'libsql';
import { WechatAuthError } from '../errors.js';
import { type AvatarIndex, EmbeddedAvatars } from './embedded-avatars.js';
import type { IdentityDoc } from './documents.js';
import type { Change, CollectionName, CollectionPort, Filter, StoreDriver } from './port.js';
import { isCondition } from './port.js';
import { PortStore } from './repositories.js';
import {
  type ColumnSpec,
  MIGRATIONS,
  SQLITE_FILE,
  TABLES,
  type TableSpec,
  decode,
  encode,
  insertText,
  valueAt,
} from './sqlite-schema.js';
import { upgradeFromNedb } from './sqlite-upgrade.js';

export { SQLITE_FILE };

export interface SqliteStoreOptions {
  /** Folder for the database file and avatars; created when missing. */
  dataDir: string;
  /** How long a write waits for another process's write lock. Default 3000 ms. */
  busyTimeoutMs?: number | undefined;
  /** How often expired sessions are deleted. Default 10 minutes; 0 turns the sweep off. */
  sweepIntervalMs?: number;
  /** Lines about long work at open (the upgrade from release 0.1), for the operator. */
  progress?: ((line: string) => void) | undefined;
}

type Statement = Database.Statement<unknown[]>;
type Row = unknown[];

const SWEEP_BATCH = 5_000;

export function isSqliteUniqueViolation(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    error instanceof Error &&
    (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  );
}

function closedError(): WechatAuthError {
  return new WechatAuthError('store_unavailable', 'embedded store: closed');
}

function unavailable(what: string, error: unknown): WechatAuthError {
  if (error instanceof WechatAuthError) return error;
  return new WechatAuthError('store_unavailable', `embedded store: ${what} failed`, {
    cause: error,
  });
}

interface Batch {
  waiters: { settle: () => void; fail: (error: unknown) => void }[];
}

/**
 * Runs statements on the one connection. Reads outside a batch answer at once; everything inside
 * a batch (reads too, since they may see the batch's writes) answers only after the commit.
 */
class Connection {
  private batch: Batch | null = null;
  private closed = false;
  private readonly statements = new Map<string, Statement>();

  constructor(readonly db: Database.Database) {}

  /**
   * A step that runs `sql` through a cached prepared statement. libsql does not reset a statement
   * that failed (a unique violation, say): its next run answers stale, so a failed one is dropped.
   */
  private statement<R>(sql: string, use: (statement: Statement) => R): () => R {
    return () => {
      let statement = this.statements.get(sql);
      if (!statement) {
        statement = this.db.prepare<unknown[]>(sql);
        // Rows as arrays in column order (libsql refuses raw mode for statements without rows).
        if (statement.reader) statement.raw(true);
        this.statements.set(sql, statement);
      }
      try {
        return use(statement);
      } catch (error) {
        this.statements.delete(sql);
        throw error;
      }
    };
  }

  read<R>(what: string, sql: string, use: (statement: Statement) => R): Promise<R> {
    if (this.closed) return Promise.reject(closedError());
    const work = this.statement(sql, use);
    if (this.batch) return this.inBatch(what, work);
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(unavailable(what, error));
    }
  }

  write<R>(what: string, sql: string, use: (statement: Statement) => R): Promise<R> {
    if (this.closed) return Promise.reject(closedError());
    const work = this.statement(sql, use);
    if (!this.batch) {
      try {
        this.db.exec('BEGIN IMMEDIATE');
      } catch (error) {
        return Promise.reject(unavailable(what, error));
      }
      const batch: Batch = { waiters: [] };
      this.batch = batch;
      setImmediate(() => this.commit(batch));
    }
    return this.inBatch(what, work);
  }

  private inBatch<R>(what: string, work: () => R): Promise<R> {
    const batch = this.batch as Batch;
    let value: R;
    try {
      value = work();
    } catch (error) {
      // SQLite rolls the whole transaction back on some errors (a full disk, I/O): then nobody
      // of this batch may be told their write happened.
      if (!this.db.inTransaction) this.fail(batch, error);
      if (isSqliteUniqueViolation(error)) return Promise.reject(error); // the caller decides
      return Promise.reject(unavailable(what, error));
    }
    return new Promise<R>((resolve, reject) => {
      batch.waiters.push({ settle: () => resolve(value), fail: reject });
    });
  }

  private commit(batch: Batch): void {
    if (this.batch !== batch) return; // failed and ended already
    this.batch = null;
    try {
      this.db.exec('COMMIT');
    } catch (error) {
      this.fail(batch, error);
      return;
    }
    for (const waiter of batch.waiters) waiter.settle();
  }

  private fail(batch: Batch, error: unknown): void {
    if (this.batch === batch) this.batch = null;
    if (this.db.inTransaction) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // Nothing more to undo: SQLite ended the transaction itself.
      }
    }
    const failure = unavailable('commit', error);
    for (const waiter of batch.waiters.splice(0)) waiter.fail(failure);
  }

  /**
   * Commits the open batch, if any, and closes the database. Calls made afterwards (a request
   * still running at shutdown) are refused: libsql aborts the process on a closed connection.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.batch) this.commit(this.batch);
    this.db.close();
  }
}

/** One table seen through the port: documents in, documents out, SQL generated once per shape. */
class SqliteCollection<T extends { _id: string }> implements CollectionPort<T> {
  private readonly byPath: ReadonlyMap<string, ColumnSpec>;
  private readonly paths: readonly (readonly string[])[];
  /** SQL and parameter order of each filter shape seen (fields and condition kinds). */
  private readonly shapes = new Map<string, { sql: string; encode: ((v: unknown) => unknown)[] }>();
  /** The columns in spec order, as SELECT, INSERT and RETURNING list them. */
  readonly selectList: string;
  /** `INSERT INTO <table> (<columns>) VALUES (?, …)` of a whole document. */
  readonly insertText: string;

  constructor(
    private readonly connection: Connection,
    private readonly spec: TableSpec,
  ) {
    this.byPath = new Map(spec.columns.map((c) => [c.path, c]));
    // Paths are one field or one object field deep (profile.nickname): split them once.
    this.paths = spec.columns.map((c) => c.path.split('.'));
    this.selectList = spec.columns.map((c) => c.column).join(', ');
    this.insertText = insertText(spec);
  }

  private column(path: string): ColumnSpec {
    const column = this.byPath.get(path);
    if (!column) throw new Error(`embedded store: ${this.spec.table} has no field ${path}`);
    return column;
  }

  /** `WHERE ...` and its parameters; the SQL depends only on the filter's shape (cached). */
  private where(filter: Filter): { sql: string; params: unknown[] } {
    let shape = '';
    for (const key in filter) {
      const value = filter[key];
      shape += `${key}${isCondition(value) ? `:${Object.keys(value)[0] ?? ''}` : ''},`;
    }
    let compiled = this.shapes.get(shape);
    if (!compiled) {
      const parts: string[] = [];
      const encoders: ((v: unknown) => unknown)[] = [];
      for (const [path, value] of Object.entries(filter)) {
        const { column, type } = this.column(path);
        const encodeValue = (v: unknown) => encode(type, v);
        if (!isCondition(value)) {
          parts.push(`${column} = ?`);
          encoders.push(encodeValue);
        } else if ('$exists' in value) {
          parts.push(`${column} IS ${value.$exists ? 'NOT ' : ''}NULL`);
          encoders.push(() => undefined); // no parameter
        } else if ('$gt' in value) {
          parts.push(`${column} > ?`);
          encoders.push((v) => encodeValue((v as { $gt: Date }).$gt));
        } else {
          parts.push(`${column} <= ?`);
          encoders.push((v) => encodeValue((v as { $lte: Date }).$lte));
        }
      }
      compiled = { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', encode: encoders };
      this.shapes.set(shape, compiled);
    }
    const params: unknown[] = [];
    let i = 0;
    for (const key in filter) {
      const value = filter[key];
      const encoded = (compiled.encode[i] as (v: unknown) => unknown)(value);
      if (encoded !== undefined) params.push(encoded);
      i += 1;
    }
    return { sql: compiled.sql, params };
  }

  /** Column assignments of a change: an object field sets (or clears) each of its columns. */
  assignments(change: Change): { columns: string[]; params: unknown[] } {
    const columns: string[] = [];
    const params: unknown[] = [];
    const assign = (path: string, value: unknown) => {
      const exact = this.byPath.get(path);
      const targets = exact
        ? [exact]
        : this.spec.columns.filter((c) => c.path.startsWith(`${path}.`));
      if (targets.length === 0) this.column(path);
      for (const target of targets) {
        columns.push(target.column);
        const inner = exact ? value : valueAt(value, target.path.slice(path.length + 1));
        params.push(encode(target.type, inner));
      }
    };
    for (const [path, value] of Object.entries(change.set ?? {})) assign(path, value);
    for (const path of change.unset ?? []) assign(path, undefined);
    return { columns, params };
  }

  /** A row (columns in spec order) as its document; runs on every read, so no allocation spare. */
  toDoc(row: Row): T {
    const doc: Record<string, unknown> = {};
    for (const name of this.spec.objects ?? []) doc[name] = {};
    const columns = this.spec.columns;
    for (let i = 0; i < columns.length; i += 1) {
      const value = row[i];
      if (value === null || value === undefined) continue;
      const { type } = columns[i] as ColumnSpec;
      const [first, second] = this.paths[i] as readonly string[];
      if (second === undefined) {
        doc[first as string] = decode(type, value);
      } else {
        const inner = (doc[first as string] ??= {}) as Record<string, unknown>;
        inner[second] = decode(type, value);
      }
    }
    return doc as T;
  }

  /** A document as the parameters of `insertText`. */
  row(doc: T): unknown[] {
    return this.spec.columns.map((c) => encode(c.type, valueAt(doc, c.path)));
  }

  findOne(filter: Filter): Promise<T | null> {
    const { sql, params } = this.where(filter);
    const text = `SELECT ${this.selectList} FROM ${this.spec.table}${sql} LIMIT 1`;
    return this.connection.read(`find in ${this.spec.table}`, text, (statement) => {
      const row = statement.get(...params) as Row | undefined;
      return row ? this.toDoc(row) : null;
    });
  }

  find(filter: Filter, options: { limit?: number } = {}): Promise<T[]> {
    const { sql, params } = this.where(filter);
    const limit = options.limit === undefined ? '' : ` LIMIT ${Math.floor(options.limit)}`;
    const text = `SELECT ${this.selectList} FROM ${this.spec.table}${sql}${limit}`;
    return this.connection.read(`find in ${this.spec.table}`, text, (statement) =>
      (statement.all(...params) as Row[]).map((row) => this.toDoc(row)),
    );
  }

  insertOne(doc: T): Promise<void> {
    const text = this.insertText;
    const values = this.row(doc);
    return this.connection.write(`insert into ${this.spec.table}`, text, (statement) => {
      statement.run(...values);
    });
  }

  updateOne(filter: Filter, change: Change, options: { upsert?: boolean } = {}): Promise<T | null> {
    const { columns, params } = this.assignments(change);
    const table = this.spec.table;
    if (options.upsert) {
      const id = filter._id;
      if (typeof id !== 'string' || Object.keys(filter).length !== 1) {
        throw new Error('embedded store: an upsert filters on _id alone');
      }
      const idColumn = this.column('_id').column;
      const text =
        `INSERT INTO ${table} (${idColumn}, ${columns.join(', ')}) VALUES (?, ${columns.map(() => '?').join(', ')})` +
        ` ON CONFLICT (${idColumn}) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}` +
        ` RETURNING ${this.selectList}`;
      return this.connection.write(`upsert into ${table}`, text, (statement) =>
        this.toDoc(statement.get(id, ...params) as Row),
      );
    }
    const where = this.where(filter);
    // The row is picked by rowid-free primary key in a subquery so that one row at most changes.
    const idColumn = this.column('_id').column;
    const text =
      `UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(', ')}` +
      ` WHERE ${idColumn} = (SELECT ${idColumn} FROM ${table}${where.sql} LIMIT 1)` +
      ` RETURNING ${this.selectList}`;
    return this.connection.write(`update ${table}`, text, (statement) => {
      const row = statement.get(...params, ...where.params) as Row | undefined;
      return row ? this.toDoc(row) : null;
    });
  }

  deleteOne(filter: Filter): Promise<boolean> {
    const where = this.where(filter);
    const idColumn = this.column('_id').column;
    const text = `DELETE FROM ${this.spec.table} WHERE ${idColumn} = (SELECT ${idColumn} FROM ${this.spec.table}${where.sql} LIMIT 1)`;
    return this.connection.write(
      `delete from ${this.spec.table}`,
      text,
      (statement) => statement.run(...where.params).changes > 0,
    );
  }

  deleteMany(filter: Filter): Promise<number> {
    const where = this.where(filter);
    const text = `DELETE FROM ${this.spec.table}${where.sql}`;
    return this.connection.write(
      `delete from ${this.spec.table}`,
      text,
      (statement) => statement.run(...where.params).changes,
    );
  }
}

/** The `avatars` table: who uploaded which file. */
function avatarIndex(connection: Connection): AvatarIndex {
  return {
    add: ({ id, userId, file, createdAt, checkKey }) =>
      connection.write(
        'record the avatar',
        'INSERT INTO avatars (id, user_id, file, created_at, review_check_key) VALUES (?, ?, ?, ?, ?)',
        (statement) => void statement.run(id, userId, file, createdAt.getTime(), checkKey ?? null),
      ),
    reviewOf: (id) =>
      connection.read(
        "read the avatar's check",
        'SELECT review_check_key, review_trace_id FROM avatars WHERE id = ?',
        (statement) => {
          const row = statement.get(id) as [string | null, string | null] | undefined;
          if (!row?.[0]) return undefined;
          return { checkKey: row[0], ...(row[1] ? { traceId: row[1] } : {}) };
        },
      ),
    setTraceId: (id, traceId) =>
      connection.write(
        "record the avatar's check",
        'UPDATE avatars SET review_trace_id = ? WHERE id = ?',
        (statement) => void statement.run(traceId, id),
      ),
    byTraceId: (traceId) =>
      connection.read(
        'find the avatar of a check',
        'SELECT id, user_id FROM avatars WHERE review_trace_id = ?',
        (statement) => {
          const row = statement.get(traceId) as [string, string] | undefined;
          return row ? { id: row[0], userId: row[1] } : null;
        },
      ),
    approve: (id) =>
      connection.write(
        'approve the avatar',
        'UPDATE avatars SET review_check_key = NULL, review_trace_id = NULL WHERE id = ? AND review_check_key IS NOT NULL',
        (statement) => statement.run(id).changes > 0,
      ),
    ofUser: (userId) =>
      connection.read(
        "list the user's avatars",
        'SELECT id, file, created_at FROM avatars WHERE user_id = ? ORDER BY created_at DESC, id DESC',
        (statement) =>
          (statement.all(userId) as [string, string, number][]).map(([id, file, at]) => ({
            id,
            file,
            createdAt: new Date(at),
          })),
      ),
    ownerOf: (id) =>
      connection.read(
        "read the avatar's owner",
        'SELECT user_id FROM avatars WHERE id = ?',
        (statement) => (statement.get(id) as [string] | undefined)?.[0],
      ),
    remove: (id) =>
      connection.write(
        'forget the avatar',
        'DELETE FROM avatars WHERE id = ?',
        (statement) => void statement.run(id),
      ),
  };
}

class SqliteDriver implements StoreDriver {
  readonly kind = 'embedded' as const;
  readonly avatars: EmbeddedAvatars;
  private readonly collections = new Map<CollectionName, SqliteCollection<{ _id: string }>>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: Connection,
    dataDir: string,
  ) {
    this.avatars = new EmbeddedAvatars(join(dataDir, 'avatars'), avatarIndex(connection));
  }

  collection<T extends { _id: string }>(name: CollectionName): SqliteCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new SqliteCollection(this.connection, TABLES[name]);
      this.collections.set(name, collection);
    }
    return collection as unknown as SqliteCollection<T>;
  }

  isDuplicateKey(error: unknown): boolean {
    return isSqliteUniqueViolation(error);
  }

  upsertIdentity(
    key: { appid: string; openid: string },
    set: Partial<IdentityDoc>,
    onInsert: IdentityDoc,
  ): Promise<IdentityDoc> {
    const identities = this.collection<IdentityDoc>('identities');
    const { columns: setColumns } = identities.assignments({ set });
    const text =
      `${identities.insertText} ON CONFLICT (appid, openid) DO UPDATE SET ` +
      (setColumns.length
        ? setColumns.map((c) => `${c} = excluded.${c}`).join(', ')
        : 'appid = excluded.appid') +
      ` RETURNING ${identities.selectList}`;
    const values = identities.row({ ...onInsert, ...set, ...key });
    return this.connection.write('upsert identity', text, (statement) => {
      return identities.toDoc(statement.get(...values) as Row);
    });
  }

  acquireLease(appid: string, holder: string, until: Date, now: Date): Promise<boolean> {
    // Inserts the lease, or takes over one that is free or lapsed; RETURNING says whether it did.
    const text =
      `INSERT INTO access_tokens (appid, lease_holder, lease_until) VALUES (?, ?, ?)` +
      ` ON CONFLICT (appid) DO UPDATE SET lease_holder = excluded.lease_holder, lease_until = excluded.lease_until` +
      ` WHERE lease_until IS NULL OR lease_until <= ? RETURNING appid`;
    return this.connection.write(
      'acquire lease',
      text,
      (statement) => statement.get(appid, holder, until.getTime(), now.getTime()) !== undefined,
    );
  }

  async ping(): Promise<void> {
    const text = 'SELECT count(*) FROM upgrades';
    await this.connection.read('ping', text, (statement) => statement.get());
  }

  /** Deletes expired sessions in small transactions, so writers never wait long behind it. */
  async sweepExpiredSessions(now: Date): Promise<number> {
    const text = `DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= ? LIMIT ${SWEEP_BATCH})`;
    let total = 0;
    for (;;) {
      const removed = await this.connection.write('sweep sessions', text, (statement) =>
        Number(statement.run(now.getTime()).changes),
      );
      total += removed;
      if (removed < SWEEP_BATCH) return total;
    }
  }

  startSweeping(intervalMs: number): void {
    if (intervalMs <= 0) return;
    const sweep = () => {
      this.sweepExpiredSessions(new Date()).catch(() => undefined); // retried next time
    };
    this.sweepTimer = setInterval(sweep, intervalMs);
    this.sweepTimer.unref();
    setImmediate(sweep);
  }

  close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.connection.close();
    return Promise.resolve();
  }
}

/** The SQLite store; `sweepExpiredSessions` is also callable (support tooling, tests). */
export class SqliteStore extends PortStore {
  private constructor(private readonly sqlite: SqliteDriver) {
    super(sqlite);
  }

  sweepExpiredSessions(now: Date = new Date()): Promise<number> {
    return this.sqlite.sweepExpiredSessions(now);
  }

  /**
   * Opens (or creates) the store in `dataDir`: applies the schema's migrations, then imports a
   * DATA_DIR of the previous release (nedb files) once. A file that is not a SQLite database
   * stops here with an error naming it; nothing is recreated over it.
   */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    await mkdir(options.dataDir, { recursive: true });
    await refuseRunningNedbRelease(options.dataDir);
    const file = join(options.dataDir, SQLITE_FILE);
    let db: Database.Database;
    try {
      db = new Database(file, { timeout: options.busyTimeoutMs ?? 3000 });
    } catch (error) {
      throw new Error(`embedded store: cannot open ${file}: ${describe(error)}`, { cause: error });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, file);
      await upgradeFromNedb(db, options.dataDir, options.progress);
    } catch (error) {
      db.close();
      if (error instanceof Error && error.message.startsWith('embedded store:')) throw error;
      throw new Error(`embedded store: ${file} cannot be used: ${describe(error)}`, {
        cause: error,
      });
    }
    const driver = new SqliteDriver(new Connection(db), options.dataDir);
    // Temporary avatar files a crash left behind; never fatal (a read-only disk, say).
    const swept = await driver.avatars.sweepTemporary();
    if (swept > 0) options.progress?.(`removed ${swept} unfinished avatar file(s)`);
    driver.startSweeping(options.sweepIntervalMs ?? 10 * 60_000);
    return new SqliteStore(driver);
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && code ? `${code}: ${message}` : message;
}

/** Applies the migrations this file lacks, in one transaction, whichever process gets there first. */
function migrate(db: Database.Database, file: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    // libsql's pragma() answers an object even with { simple: true }: read it as a row instead.
    const version = Number((db.prepare('PRAGMA user_version').raw(true).get() as unknown[])[0]);
    if (version > MIGRATIONS.length) {
      throw new Error(
        `embedded store: ${file} has schema version ${version}, newer than this release knows (${MIGRATIONS.length}); upgrade wxlogin`,
      );
    }
    for (let next = version; next < MIGRATIONS.length; next += 1) {
      db.exec(MIGRATIONS[next] as string);
    }
    db.pragma(`user_version = ${MIGRATIONS.length}`);
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * The previous release kept a lock directory (proper-lockfile) fresh every 5 s while it ran. A
 * fresh one means that release still writes its nedb files here: importing them now would lose
 * its later writes.
 */
async function refuseRunningNedbRelease(dataDir: string): Promise<void> {
  const lock = await stat(join(dataDir, 'store.lock')).catch(() => null);
  if (lock && Date.now() - lock.mtimeMs < 15_000) {
    throw new Error(
      `embedded store: ${dataDir} is in use by a running wxlogin of the previous release; stop it, then start this one`,
    );
  }
}
