/**
 * For whoever writes or checks a store adapter (this package's drivers, the cloud database
 * stand-in): the shared store contract suite, and the store port with every record type it reads
 * and writes. Imports vitest: test code only.
 */
export { describeStoreContract } from './store/contract.js';
export type { StoreContractOptions } from './store/contract.js';
export type * from './store/types.js';
