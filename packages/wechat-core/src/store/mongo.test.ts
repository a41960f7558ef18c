import { describe, it } from 'vitest';
import { describeStoreContract } from './contract.js';
import { MongoStore } from './mongo.js';

const url = process.env.MONGODB_URL;

if (url) {
  let run = 0;
  describeStoreContract('mongo', async () => {
    run += 1;
    const store = await MongoStore.connect({
      url,
      dbName: `wxlogin_contract_${process.pid}_${run}`,
    });
    await store.dropAllForTests();
    return store;
  });
} else {
  // No MongoDB server can be installed on the project's machines: say so instead of passing silently.
  console.info(
    'SKIP store contract: mongo (MONGODB_URL is not set; set it to run the suite against MongoDB)',
  );
  describe('store contract: mongo', () => {
    it.skip('runs only when MONGODB_URL is set', () => undefined);
  });
}
