/**
 * The WeChat cloud database store, on its own entry: the cloud functions pass it
 * `cloud.database({ throwOnNotFound: false })`. It imports no database driver.
 */
export { CloudDatabaseStore, CLOUD_COLLECTIONS } from './store/cloud-db.js';
export type { CloudDatabase } from './store/cloud-db.js';
