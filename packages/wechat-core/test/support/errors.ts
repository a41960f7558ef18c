import { WechatAuthError } from '../../src/errors.js';

/** The WechatAuthError code a promise rejects with, or 'ok' when it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WechatAuthError) return error.code;
    throw error;
  }
  return 'ok';
}
