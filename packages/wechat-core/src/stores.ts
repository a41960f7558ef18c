/**
 * The store drivers, on their own entry so that the main entry imports no database driver:
 * `openStore` (main entry) loads the one it needs on first use, and so do the cloud functions.
 */
export { SqliteStore, SQLITE_FILE } from './store/sqlite.js';
export type { SqliteStoreOptions } from './store/sqlite.js';
export { MongoStore } from './store/mongo.js';
export type { MongoStoreOptions } from './store/mongo.js';
export { PortStore } from './store/repositories.js';
export type * from './store/port.js';
