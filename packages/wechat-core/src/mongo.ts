/** The MongoDB store (official driver 6.x), on its own entry: only what chooses it loads the driver. */
export { MongoStore } from './store/mongo.js';
export type { MongoStoreOptions } from './store/mongo.js';
