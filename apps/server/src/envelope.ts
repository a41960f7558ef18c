/**
 * How a failure reaches a client, for the JSON API and the web login's pages alike: the HTTP
 * status of each error code (DESIGN.md, error table), the `{ error: { code, message } }` body, and
 * `describeFailure`, the one mapping from whatever a handler threw to status, code and message.
 */
import { type ErrorCode, WechatAuthError } from '@wxlogin/wechat-core';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  invalid_code: 400,
  code_used: 400,
  invalid_encrypted_data: 400,
  unauthorized: 401,
  risky_user: 403,
  not_found: 404,
  session_key_stale: 409,
  deletion_not_pending: 409,
  content_rejected: 400,
  rate_limited: 429,
  internal: 500,
  wechat_unavailable: 502,
  store_unavailable: 503,
  wechat_timeout: 504,
};

/** A JSON error answer's body. */
export function errorBody(
  code: ErrorCode,
  message: string,
): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message } };
}

export interface Failure {
  status: number;
  code: ErrorCode;
  /** Safe to show: an internal failure says only its request id. */
  message: string;
  /** rate_limited: when to come back. */
  retryAfterSeconds?: number | undefined;
  /** What to log at error level (5xx), with the original error; absent for a client's mistake. */
  logged?: { fields: Record<string, unknown>; what: string } | undefined;
}

/**
 * What the client is told about a thrown value: a WechatAuthError keeps its code; fastify's own
 * 4xx (body too large, unsupported media type, malformed request) is bad_request; anything else
 * is internal, its details kept for the log.
 */
export function describeFailure(error: unknown, requestId: string): Failure {
  const internal = `internal error (request id ${requestId})`;
  if (error instanceof WechatAuthError) {
    const status = HTTP_STATUS[error.code];
    return {
      status,
      code: error.code,
      message: error.code === 'internal' ? internal : error.message,
      retryAfterSeconds:
        error.code === 'rate_limited' ? (error.retryAfterSeconds ?? 60) : undefined,
      logged:
        status >= 500
          ? { fields: { err: error, code: error.code }, what: 'request failed' }
          : undefined,
    };
  }
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const message = error instanceof Error ? error.message : 'bad request';
    return { status: HTTP_STATUS.bad_request, code: 'bad_request', message };
  }
  return {
    status: HTTP_STATUS.internal,
    code: 'internal',
    message: internal,
    logged: { fields: { err: error }, what: 'unexpected failure' },
  };
}
