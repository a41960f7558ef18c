/**
 * The one error class of the stack. Its `code` is the stable, public failure code; HTTP statuses
 * are decided by the HTTP adapter alone (listed here only as a reminder of the contract).
 */
export type ErrorCode =
  /** 400: body missing, not JSON, wrong field types, oversized. */
  | 'bad_request'
  /** 400: WeChat 40029, the login code is wrong, expired or from another app. */
  | 'invalid_code'
  /** 400: WeChat 40163, the login code was already exchanged. */
  | 'code_used'
  /** 403: WeChat 40226, WeChat blocked this user's login. */
  | 'risky_user'
  /** 429 + Retry-After: WeChat 45011, or our own per-user limit. */
  | 'rate_limited'
  /** 401: missing, malformed, unknown, expired or revoked session token. */
  | 'unauthorized'
  /** 404: no such route or resource. */
  | 'not_found'
  /** 409: encrypted data does not decrypt with the stored session_key; wx.login again, then resend. */
  | 'session_key_stale'
  /** 409: no account deletion to cancel (none pending, or its date has come). */
  | 'deletion_not_pending'
  /** 400: WeChat's content security check found the text or image risky; nothing was stored. */
  | 'content_rejected'
  /** 400: bad base64, wrong iv length, watermark of another app, rawData signature mismatch. */
  | 'invalid_encrypted_data'
  /** 502: WeChat -1 after bounded retries, 5xx, an unreadable answer or an unexpected errcode. */
  | 'wechat_unavailable'
  /** 504: WeChat did not answer in time. */
  | 'wechat_timeout'
  /** 503: the database is down; nothing was issued or half-written. */
  | 'store_unavailable'
  /** 500: anything else. */
  | 'internal';

export interface WechatAuthErrorOptions {
  cause?: unknown;
  /** For rate_limited: how long the caller should wait. */
  retryAfterSeconds?: number;
  /** The errcode WeChat answered, when the failure came from WeChat. */
  wechatErrcode?: number;
}

export class WechatAuthError extends Error {
  override readonly name = 'WechatAuthError';
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly wechatErrcode: number | undefined;

  constructor(code: ErrorCode, message: string, options: WechatAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.wechatErrcode = options.wechatErrcode;
  }

  /** Wraps anything thrown into a WechatAuthError, keeping a known one as it is. */
  static from(error: unknown): WechatAuthError {
    if (error instanceof WechatAuthError) return error;
    return new WechatAuthError('internal', 'unexpected failure', { cause: error });
  }
}

export function isWechatAuthError(error: unknown, code?: ErrorCode): error is WechatAuthError {
  return error instanceof WechatAuthError && (code === undefined || error.code === code);
}
