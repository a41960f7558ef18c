/**
 * Upgrade in place: a DATA_DIR written by release 0.1 holds one nedb file per collection
 * (`users.db`, ...). At the first open of this release they are read with nedb itself (so its
 * file format, `$$date` values and deleted lines are read exactly as nedb would), written into
 * the SQLite tables in one transaction, and then renamed to `<name>.db.nedb-0.1` (kept, never
 * deleted). Avatars are files under DATA_DIR/avatars in both releases and stay where they are.
 */
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type Database from 'libsql';
import type { CollectionName } from './port.js';
import { SQLITE_FILE, TABLES, encode, insertText, valueAt } from './sqlite-schema.js';

const UPGRADE = 'nedb-0.1';
const RENAMED_SUFFIX = `.${UPGRADE}`;
const NEDB_COLLECTIONS: readonly CollectionName[] = [
  'users',
  'identities',
  'sessions',
  'access_tokens',
  'rewards',
];

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

/** The live documents of one nedb file, read by nedb (loaded on demand: only upgrades need it). */
async function readNedb(filename: string): Promise<Record<string, unknown>[]> {
  // nedb reads through a stream without an error handler: read the file first, so an unreadable
  // one is an ordinary error and not an uncaught 'error' event.
  await readFile(filename);
  const nedb = await import('@seald-io/nedb');
  const db = new nedb.default<Record<string, unknown> & { _id: string }>({ filename });
  await db.loadDatabaseAsync();
  return db.getAllData();
}

/** A 0.1 document as the row this release stores (sessions kept their hash as base64 text). */
function rowOf(name: CollectionName, doc: Record<string, unknown>): unknown[] {
  return TABLES[name].columns.map(({ path, type }) => {
    const value = valueAt(doc, path);
    if (type === 'blob') return typeof value === 'string' ? Buffer.from(value, 'base64') : null;
    if (type === 'date' && !(value instanceof Date)) return null;
    return encode(type, value);
  });
}

export async function upgradeFromNedb(
  db: Database.Database,
  dataDir: string,
  progress: (line: string) => void = () => undefined,
): Promise<void> {
  const files = NEDB_COLLECTIONS.map((name) => ({ name, path: join(dataDir, `${name}.db`) }));
  const present: typeof files = [];
  for (const file of files) if (await exists(file.path)) present.push(file);
  if (present.length === 0) return;

  const done = () => db.prepare('SELECT 1 FROM upgrades WHERE name = ?').get(UPGRADE) !== undefined;
  if (!done()) {
    progress(`importing release 0.1's data files in ${dataDir} into ${SQLITE_FILE} (once)`);
    const documents = new Map<CollectionName, Record<string, unknown>[]>();
    for (const file of present) documents.set(file.name, await readNedb(file.path));
    db.exec('BEGIN IMMEDIATE');
    try {
      // Another process of this release may have imported them while this one read the files.
      if (!done()) {
        for (const [name, docs] of documents) {
          const insert = db.prepare(insertText(TABLES[name]));
          for (const doc of docs) insert.run(...rowOf(name, doc));
        }
        db.prepare('INSERT INTO upgrades (name, done_at) VALUES (?, ?)').run(UPGRADE, Date.now());
      }
      db.exec('COMMIT');
      const counts = [...documents].map(([name, docs]) => `${docs.length} ${name}`).join(', ');
      progress(`imported ${counts}; the old files are kept as <name>.db${RENAMED_SUFFIX}`);
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw new Error(
        `embedded store: cannot import the previous release's files in ${dataDir}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
  // Imported (now or by an earlier start that stopped before renaming): keep the old files aside.
  for (const file of present) {
    await rename(file.path, `${file.path}${RENAMED_SUFFIX}`).catch((error: unknown) => {
      // Another process of this release renamed it first.
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    });
  }
  await rm(join(dataDir, 'store.lock'), { recursive: true, force: true });
}
