/**
 * Content security (内容安全) for what users put in their profile: a nickname is checked with
 * msgSecCheck v2 before it is stored (risky: refused as content_rejected, nothing stored; review:
 * stored and logged); an avatar image is submitted to mediaCheckAsync v2 and served to others only
 * once the wxa_media_check event says pass (risky: deleted, and taken off the profile). A WeChat
 * failure during a check fails the request as any WeChat failure does: nothing passes unchecked.
 * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_msgseccheck.html
 * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_mediacheckasync.html
 */
import { WechatAuthError } from '../errors.js';
import type { ContentVerdict } from '../wechat/client.js';
import { openidOf } from './account.js';
import { avatarIdOf } from './avatar.js';
import type { AuthDeps } from './deps.js';
import type { CallerContext } from './sessions.js';

/** How a runtime reaches WeChat's content security: HTTPS with an access token, or cloud.openapi. */
export interface ContentSecurity {
  checkText(input: { appid: string; openid: string; content: string }): Promise<ContentVerdict>;
  submitImage(input: { appid: string; openid: string; mediaUrl: string }): Promise<{
    traceId: string;
  }>;
}

/** The self-hosted way: WeChat's HTTPS API with the app's stable access token. */
export function wechatContentSecurity(deps: Pick<AuthDeps, 'wechat' | 'tokens'>): ContentSecurity {
  return {
    checkText: ({ appid, openid, content }) =>
      deps.tokens.call(appid, (token) => deps.wechat.msgSecCheck(token, { content, openid })),
    submitImage: ({ appid, openid, mediaUrl }) =>
      deps.tokens.call(appid, (token) => deps.wechat.mediaCheckAsync(token, { mediaUrl, openid })),
  };
}

/** Checks text a user typed before it is stored; throws content_rejected when WeChat says risky. */
export async function screenText(
  what: string,
  content: string,
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'content' | 'log'>,
): Promise<void> {
  if (!deps.content) return;
  const openid = await openidOf(caller, deps);
  const verdict = await deps.content.checkText({ appid: caller.appid, openid, content });
  if (verdict.suggest === 'risky')
    throw new WechatAuthError(
      'content_rejected',
      `${what}: WeChat's content security found it risky (label ${verdict.label}); choose another`,
    );
  if (verdict.suggest === 'review')
    deps.log?.warn(
      {
        event: 'content_review',
        what,
        userId: caller.userId,
        label: verdict.label,
        traceId: verdict.traceId,
      },
      'WeChat suggests a human review of stored user content',
    );
}

export type MediaCheckOutcome = 'approved' | 'removed' | 'left_pending' | 'unknown_trace';

/** How long an event may wait for its trace id (stored right after WeChat answered the submit). */
const TRACE_WAIT_MS = 1_000;

/** Applies a wxa_media_check event to the avatar it concerns. */
export async function applyMediaCheck(
  event: Readonly<Record<string, unknown>>,
  deps: Pick<AuthDeps, 'store' | 'now' | 'log'>,
): Promise<MediaCheckOutcome> {
  const traceId = typeof event.trace_id === 'string' ? event.trace_id : '';
  if (!traceId) return 'unknown_trace';
  let avatar = await deps.store.avatars.findByTraceId(traceId);
  // WeChat may answer before the submitting request stored the trace id: wait for it a moment.
  for (let waited = 0; !avatar && waited < TRACE_WAIT_MS; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    avatar = await deps.store.avatars.findByTraceId(traceId);
  }
  if (!avatar) return 'unknown_trace';
  const result = event.result as { suggest?: unknown; label?: unknown } | undefined;
  const errcode = Number(event.errcode ?? 0);
  if (errcode !== 0 || result?.suggest === 'review' || result?.suggest === undefined) {
    deps.log?.warn(
      {
        event: 'avatar_check_inconclusive',
        avatarId: avatar.id,
        errcode,
        suggest: result?.suggest,
      },
      'WeChat could not pass the avatar image; it stays unserved to others',
    );
    return 'left_pending';
  }
  if (result.suggest === 'pass') {
    await deps.store.avatars.approve(avatar.id);
    return 'approved';
  }
  // Risky: the image goes, and so does the profile's link to it.
  await deps.store.avatars.delete(avatar.id);
  const user = await deps.store.users.findUser(avatar.userId);
  if (user && avatarIdOf(user.profile.avatarUrl) === avatar.id)
    await deps.store.users.clearFields(avatar.userId, ['avatarUrl'], deps.now());
  return 'removed';
}
