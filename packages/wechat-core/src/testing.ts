/** Test helpers for adapters and other packages: the shared store contract suite. */
export { describeStoreContract } from './store/contract.js';
