/**
 * What a page can be told went wrong: the server's error codes (the same union the server uses,
 * so a contract change breaks this type-check) plus what only the client sees.
 */
import type { ErrorCode } from '@wxlogin/wechat-core';

export type ClientErrorCode =
  | ErrorCode
  /** wx.request failed before an answer (no network, DNS, TLS, domain not allowed). */
  | 'network'
  /** wx.request timed out. */
  | 'timeout'
  /** wx.login failed on the phone. */
  | 'login_failed';

export class ClientError extends Error {
  override readonly name = 'ClientError';

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export function isClientError(error: unknown, code?: ClientErrorCode): error is ClientError {
  return error instanceof ClientError && (code === undefined || error.code === code);
}
