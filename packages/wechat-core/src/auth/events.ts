/**
 * What WeChat's pushed events about a user do to their account (授权用户信息变更):
 * - `user_authorization_revoke`: removes exactly what the user took back. RevokeInfo 6 (昵称和头像)
 *   clears nickname and avatar, 19 (the nickname chosen on the nickname keyboard) the nickname,
 *   20 (the avatar chosen with the avatar button) the avatar, 8 (手机号) the phone. The avatar's
 *   images (every upload of the user: they all came from that button) are deleted too. Other
 *   values concern data this stack never stores and change nothing.
 * - `user_info_modified`: WeChat cleaned a risky profile; nickname and avatar are cleared.
 * - `user_authorization_cancellation`: the person deleted their WeChat account; the erasure is
 *   due at once (no cooling-off), every session ends.
 * An event for an unknown app or openid, or of another kind, changes nothing. Every event may
 * come again (WeChat retries): each outcome is the same the second time.
 * @see https://developers.weixin.qq.com/miniprogram/dev/server/event_push/platform/authorized_user_information_changes
 */
import { type MediaCheckOutcome, applyMediaCheck } from './content.js';
import type { AuthDeps } from './deps.js';
import { deleteAtOnce } from './lifecycle.js';

/** A pushed event as decoded from JSON or XML: field names as WeChat sends them. */
export type PushedEvent = Readonly<Record<string, unknown>>;

export type EventOutcome =
  'revoked' | 'profile_cleared' | 'deletion_scheduled' | 'unknown_user' | 'ignored';

type Field = 'nickname' | 'avatarUrl' | 'phone';

const REVOKED_FIELDS: Readonly<Record<string, readonly Field[]>> = {
  '6': ['nickname', 'avatarUrl'],
  '8': ['phone'],
  '19': ['nickname'],
  '20': ['avatarUrl'],
};

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** Applies one pushed user event; `appid` is the app the push came for when the body lacks it. */
async function handleUserEvent(
  event: PushedEvent,
  deps: Pick<AuthDeps, 'apps' | 'store' | 'now'>,
  appid?: string,
): Promise<EventOutcome> {
  const kind = text(event.Event);
  if (
    kind !== 'user_authorization_revoke' &&
    kind !== 'user_info_modified' &&
    kind !== 'user_authorization_cancellation'
  )
    return 'ignored';
  const app = text(event.AppID) ?? appid;
  const openid = text(event.OpenID);
  if (!app || !openid || !deps.apps.has(app)) return 'unknown_user';
  const identity = await deps.store.users.findIdentity(app, openid);
  if (!identity) return 'unknown_user';
  const userId = identity.userId;

  if (kind === 'user_authorization_cancellation') {
    return (await deleteAtOnce(userId, deps)) ? 'deletion_scheduled' : 'unknown_user';
  }
  const fields: Field[] =
    kind === 'user_info_modified'
      ? ['nickname', 'avatarUrl']
      : [
          ...new Set(
            (text(event.RevokeInfo) ?? '')
              .split(/[\s,|]+/)
              .flatMap((value) => REVOKED_FIELDS[value] ?? []),
          ),
        ];
  if (fields.length === 0) return 'ignored';
  const user = await deps.store.users.clearFields(userId, fields, deps.now());
  if (!user) return 'unknown_user';
  // Every upload of the user came from the avatar button whose choice was taken back.
  if (fields.includes('avatarUrl')) await deps.store.avatars.prune(userId, 0, []);
  return kind === 'user_info_modified' ? 'profile_cleared' : 'revoked';
}

/**
 * Applies any pushed event this stack acts on: the user events above and wxa_media_check (an
 * avatar's image check); anything else is ignored.
 */
export async function handlePushedEvent(
  event: PushedEvent,
  deps: Pick<AuthDeps, 'apps' | 'store' | 'now' | 'log'>,
  appid?: string,
): Promise<EventOutcome | MediaCheckOutcome> {
  if (event.Event === 'wxa_media_check') return applyMediaCheck(event, deps);
  return handleUserEvent(event, deps, appid);
}
