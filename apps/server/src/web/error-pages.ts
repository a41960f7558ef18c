/**
 * What the web login's error pages say, and with which status: the flow's own refusals (a state
 * that is spent, a declined consent), and a failure of the code exchange or of what follows it,
 * whose status comes from the one error table (envelope.ts) like a JSON answer's.
 */
import type { ErrorCode } from '@wxlogin/wechat-core';
import { HTTP_STATUS, describeFailure } from '../envelope.js';
import type { ErrorPage } from './pages.js';

export const PAGES = {
  denied: {
    status: 403,
    code: 'access_denied',
    title: '你已拒绝授权',
    detail: 'You declined to share your WeChat profile, so we could not sign you in.',
  },
  invalidState: {
    status: 400,
    code: 'invalid_state',
    title: '登录链接无效或已被使用',
    detail: 'This sign-in link is not valid here or was already used. Please start again.',
  },
  expiredState: {
    status: 400,
    code: 'expired_state',
    title: '登录链接已过期',
    detail: 'This sign-in link has expired. Please start again.',
  },
  badReturnTo: {
    status: 400,
    code: 'bad_return_to',
    title: '无效的跳转地址',
    detail: 'returnTo must be a path on this site, such as /orders.',
  },
  badScope: {
    status: HTTP_STATUS.bad_request,
    code: 'bad_request',
    title: '无效的授权范围',
    detail: 'scope must be snsapi_base or snsapi_userinfo.',
  },
  crossOrigin: {
    status: 403,
    code: 'bad_origin',
    title: '请求来源无效',
    detail: 'Signing out works only from this site’s own page.',
  },
  snapshot: {
    status: 403,
    code: 'snapshot_user',
    title: '请在微信中打开',
    detail: 'This page was opened from a WeChat Moments snapshot. Open it in WeChat to sign in.',
  },
} satisfies Record<string, ErrorPage>;

/** WeChat failing or slow: one page, with the status of each code. */
const WECHAT_DOWN = {
  title: '微信暂时无法访问',
  detail: 'WeChat did not answer properly. Please try again in a moment.',
};

/** Page copy for the failures a sign-in can meet; anything else is "something went wrong". */
const FAILURE_COPY: Partial<Record<ErrorCode, { title: string; detail: string }>> = {
  code_used: {
    title: '授权码已被使用',
    detail: 'This sign-in was already completed once. Please start again.',
  },
  invalid_code: {
    title: '授权码无效或已过期',
    detail: 'WeChat did not accept this sign-in code. Please start again.',
  },
  wechat_unavailable: WECHAT_DOWN,
  wechat_timeout: WECHAT_DOWN,
  store_unavailable: {
    title: '服务暂时不可用',
    detail: 'Our database is unavailable. Please try again in a moment.',
  },
};

/**
 * The page for a thrown failure: its status and code are the JSON API's; a failure with no copy
 * of its own is shown as internal (500, the request id only).
 */
export function pageForFailure(error: unknown, requestId: string): ErrorPage {
  const failure = describeFailure(error, requestId);
  const copy = FAILURE_COPY[failure.code];
  if (copy) return { status: failure.status, code: failure.code, ...copy };
  return {
    status: HTTP_STATUS.internal,
    code: 'internal',
    title: '出错了',
    detail: `Something went wrong (request id ${requestId}).`,
  };
}
