/**
 * The two store adapters on their own entry point, for runtimes that load them on first use: the
 * cloud functions import this lazily, so a cold start does not evaluate the MongoDB driver before
 * the first call needs it. The main entry exports the same classes.
 */
export { EmbeddedStore } from './store/embedded.js';
export type { EmbeddedStoreOptions } from './store/embedded.js';
export { MongoStore } from './store/mongo.js';
export type { MongoStoreOptions } from './store/mongo.js';
