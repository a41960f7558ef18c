/** One nedb datastore of the embedded store, with the adapter's failure rule. */
import { readFile } from 'node:fs/promises';
// A namespace import: nedb's typings declare an ES default export, and Node hands the CommonJS
// module (the class itself) to ESM as `default`, so both sides agree on `nedb.default`.
import * as nedb from '@seald-io/nedb';
import { WechatAuthError } from '../errors.js';

export const Datastore = nedb.default;
export type Datastore<T extends { _id: string }> = nedb.default<T>;

export function isUniqueViolation(error: unknown): boolean {
  return (error as { errorType?: unknown } | null)?.errorType === 'uniqueViolated';
}

/**
 * One nedb datastore with the failure rule of this adapter: nedb changes its memory before it
 * writes the file and does not undo that when the write fails, so after a failed write the
 * datastore is reloaded from disk before it is used again. Memory never holds what disk lacks.
 */
export class Collection<T extends { _id: string }> {
  private reloadNeeded = false;

  constructor(
    readonly db: Datastore<T>,
    private readonly name: string,
    private readonly filename: string,
  ) {}

  async run<R>(operation: (db: Datastore<T>) => Promise<R>): Promise<R> {
    try {
      if (this.reloadNeeded) {
        // nedb reads the file through a stream whose read errors it does not handle (an EISDIR or
        // EACCES there is an uncaught 'error' event that ends the process): read it here first,
        // so an unreadable file is an ordinary rejection. A missing file is fine: nedb recreates it.
        await readFile(this.filename).catch((error: unknown) => {
          if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
        });
        await this.db.loadDatabaseAsync();
        this.reloadNeeded = false;
      }
      return await operation(this.db);
    } catch (error) {
      if (error instanceof WechatAuthError || isUniqueViolation(error)) throw error;
      this.reloadNeeded = true;
      throw new WechatAuthError(
        'store_unavailable',
        `embedded store: ${this.name} is unavailable`,
        {
          cause: error,
        },
      );
    }
  }
}
