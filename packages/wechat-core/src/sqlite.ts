/** The embedded SQLite store (libsql), on its own entry: only what chooses it loads the engine. */
export { SqliteStore, SQLITE_FILE } from './store/sqlite.js';
export type { SqliteStoreOptions } from './store/sqlite.js';
