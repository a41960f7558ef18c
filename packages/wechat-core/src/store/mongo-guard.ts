/** How the MongoDB adapter tells a database failure from a duplicate key. */
import { MongoServerError } from 'mongodb';
import { WechatAuthError } from '../errors.js';

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

/** Runs a driver call; a failure of the database becomes store_unavailable with the cause kept. */
export async function guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof WechatAuthError || isDuplicateKey(error)) throw error;
    throw new WechatAuthError('store_unavailable', `mongo: ${what} failed`, { cause: error });
  }
}
