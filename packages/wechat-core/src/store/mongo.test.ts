import { MongoClient } from 'mongodb';
import { describe, it } from 'vitest';
import { describeStoreContract } from './contract.js';
import { MongoStore } from './mongo.js';

const url = process.env.MONGODB_URL;

if (url) {
  const databases: string[] = [];
  describeStoreContract(
    'mongo',
    async () => {
      const dbName = `wxlogin_contract_${process.pid}_${databases.length + 1}`;
      databases.push(dbName);
      return MongoStore.connect({ url, dbName });
    },
    {
      // The suite's own databases, dropped through a client of the test's: nothing test-only on
      // the store itself.
      destroy: async () => {
        const client = await MongoClient.connect(url);
        try {
          for (const name of databases) await client.db(name).dropDatabase();
        } finally {
          await client.close();
        }
      },
    },
  );
} else {
  // No MongoDB server can be installed on the project's machines: say so instead of passing silently.
  console.info(
    'SKIP store contract: mongo (MONGODB_URL is not set; set it to run the suite against MongoDB)',
  );
  describe('store contract: mongo', () => {
    it.skip('runs only when MONGODB_URL is set', () => undefined);
  });
}
