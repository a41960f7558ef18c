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
import { openidOf, userGone } from './account.js';
import { avatarIdOf, isOwnCloudAvatar } from './avatar.js';
import type { UserRecord } from '../store/types.js';
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

/**
 * A new cloud avatar (a cloud:// file ID) goes up for WeChat's image check instead of onto the
 * profile: WeChat downloads it through a temporary link, and the wxa_media_check event (routed to
 * the `mediacheck` cloud function) puts it on the profile when it passes. An avatar replaced while
 * pending is deleted; the profile keeps its current avatar meanwhile. Answers the user's record
 * with the new pending avatar.
 */
export async function submitCloudAvatar(
  fileId: string,
  caller: CallerContext,
  /** The caller's record as the request read it: its pending avatar is the one replaced. */
  before: UserRecord,
  deps: Pick<AuthDeps, 'store' | 'now' | 'content' | 'cloudFiles' | 'log'>,
): Promise<UserRecord> {
  if (!deps.content || !deps.cloudFiles) return before;
  const openid = await openidOf(caller, deps);
  const mediaUrl = await deps.cloudFiles.temporaryUrl(fileId);
  const { traceId } = await deps.content.submitImage({ appid: caller.appid, openid, mediaUrl });
  const now = deps.now();
  const user = await deps.store.users.setPendingAvatar(
    caller.userId,
    { fileId, traceId, submittedAt: now },
    now,
  );
  if (!user) throw userGone();
  const replaced = before.pendingAvatar?.fileId;
  if (replaced !== fileId && replaced !== user.profile.avatarUrl)
    await deleteOwnCloudAvatar(replaced, caller.userId, deps);
  return user;
}

/**
 * Deletes a cloud avatar file the user no longer uses, if it is in their own folder. Best effort:
 * a file left behind costs storage, not correctness.
 */
async function deleteOwnCloudAvatar(
  fileId: string | undefined,
  userId: string,
  deps: Pick<AuthDeps, 'cloudFiles' | 'log'>,
): Promise<void> {
  if (fileId === undefined || !deps.cloudFiles || !isOwnCloudAvatar(fileId, userId)) return;
  await deps.cloudFiles
    .delete([fileId])
    .catch((error: unknown) =>
      deps.log?.warn(
        { event: 'cloud_file_left', userId, cause: String(error) },
        'a replaced avatar could not be deleted from cloud storage',
      ),
    );
}

/**
 * The profile got an avatar some other way (the same one again, or WeChat's legacy data): an
 * avatar still awaiting its check is dropped, so a later verdict cannot replace that choice.
 */
export async function dropPendingAvatar(
  user: UserRecord,
  deps: Pick<AuthDeps, 'store' | 'now' | 'cloudFiles' | 'log'>,
): Promise<UserRecord> {
  const pending = user.pendingAvatar;
  if (!pending) return user;
  const settled = await deps.store.users.settlePendingAvatar(user.id, pending, false, deps.now());
  if (pending.fileId !== user.profile.avatarUrl)
    await deleteOwnCloudAvatar(pending.fileId, user.id, deps);
  return settled ?? user;
}

export type MediaCheckOutcome = 'approved' | 'removed' | 'left_pending' | 'unknown_trace';

/** How long an event may wait for its trace id (stored right after WeChat answered the submit). */
const TRACE_WAIT_MS = 1_000;

/**
 * Applies a wxa_media_check event to the avatar it concerns: an upload of this server's
 * (`store.avatars`), or a cloud avatar pending on its user (`pendingAvatar`).
 */
export async function applyMediaCheck(
  event: Readonly<Record<string, unknown>>,
  deps: Pick<AuthDeps, 'store' | 'now' | 'log' | 'cloudFiles'>,
): Promise<MediaCheckOutcome> {
  const traceId = typeof event.trace_id === 'string' ? event.trace_id : '';
  if (!traceId) return 'unknown_trace';
  const find = async () =>
    (await deps.store.avatars.findByTraceId(traceId)) ??
    (await deps.store.users.findByPendingAvatar(traceId));
  let found = await find();
  // WeChat may answer before the submitting request stored the trace id: wait for it a moment.
  for (let waited = 0; !found && waited < TRACE_WAIT_MS; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    found = await find();
  }
  if (!found) return 'unknown_trace';
  const result = event.result as { suggest?: unknown; label?: unknown } | undefined;
  const errcode = Number(event.errcode ?? 0);
  if (errcode !== 0 || result?.suggest === 'review' || result?.suggest === undefined) {
    deps.log?.warn(
      {
        event: 'avatar_check_inconclusive',
        ...('userId' in found ? { avatarId: found.id } : { userId: found.id }),
        errcode,
        suggest: result?.suggest,
      },
      'WeChat could not pass the avatar image; it stays unserved to others',
    );
    return 'left_pending';
  }
  const passed = result.suggest === 'pass';
  if (!('userId' in found)) return settleCloudAvatar(found, passed, deps);
  if (passed) {
    await deps.store.avatars.approve(found.id);
    return 'approved';
  }
  // Risky: the image goes, and so does the profile's link to it.
  await deps.store.avatars.delete(found.id);
  const user = await deps.store.users.findUser(found.userId);
  if (user && avatarIdOf(user.profile.avatarUrl) === found.id)
    await deps.store.users.clearFields(found.userId, ['avatarUrl'], deps.now());
  return 'removed';
}

/**
 * A cloud avatar's verdict: onto the profile, or deleted from cloud storage. `user` is the record
 * found by the trace id; the settling update is conditional on that trace id.
 */
async function settleCloudAvatar(
  user: UserRecord,
  passed: boolean,
  deps: Pick<AuthDeps, 'store' | 'now' | 'cloudFiles' | 'log'>,
): Promise<MediaCheckOutcome> {
  const pending = user.pendingAvatar;
  if (!pending) return 'unknown_trace';
  const userId = user.id;
  const previous = user.profile.avatarUrl;
  if (
    !passed &&
    pending.fileId !== previous &&
    deps.cloudFiles &&
    isOwnCloudAvatar(pending.fileId, userId)
  ) {
    // Deleted before the record lets go of it: a failure here leaves the check to WeChat's retry.
    await deps.cloudFiles.delete([pending.fileId]);
  }
  const settled = await deps.store.users.settlePendingAvatar(userId, pending, passed, deps.now());
  if (!settled) return 'unknown_trace';
  // The avatar it replaces on the profile is no longer anyone's.
  if (passed && previous !== pending.fileId) await deleteOwnCloudAvatar(previous, userId, deps);
  return passed ? 'approved' : 'removed';
}
