/** Test helpers for adapters and other packages: the shared store contract suite. */
export { describeStoreContract } from './store/contract.js';
export type { StoreContractOptions } from './store/contract.js';
