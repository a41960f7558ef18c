/**
 * The HTTP status of each error code (DESIGN.md, error table): the one table for JSON answers
 * (app.ts's error handler) and the web login's error pages.
 */
import type { ErrorCode } from '@wxlogin/wechat-core';

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
