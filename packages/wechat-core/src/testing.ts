/**
 * For whoever checks a store adapter (this package's drivers, the cloud database stand-in): the
 * shared store contract suite. Imports vitest: test code only.
 */
export { describeStoreContract } from './store/contract.js';
export type { StoreContractOptions } from './store/contract.js';
