/**
 * The account's life after login: a copy of everything stored (export), the user's devices
 * (sessions), the privacy-guideline agreement (consent), and deletion with a cooling-off period.
 *
 * Deletion (PIPL, MIIT: deletion on request within 15 working days):
 * - `requestDeletion` marks the user (deleteAt = now + days) and ends every session at once. A
 *   login during the cooling-off period succeeds and says so (`deletion`); only
 *   `cancelDeletion` cancels, never a login.
 * - From `deleteAt` on, the account is erased by `eraseDueAccounts` (a sweep) or by the next
 *   login of the person (`upsertLoginChecked`), whichever comes first. Erasure claims the user
 *   first (a conditional update that a cancel cannot pass), then deletes identities, sessions,
 *   avatars, rewards, consents and the user record last, so an erasure cut short is resumed.
 * - Nothing of an erased account is kept: the next login of that person is a new user.
 */
import { WechatAuthError } from '../errors.js';
import type { ConsentRecord, UserRecord } from '../store/types.js';
import { loadUser, userGone } from './account.js';
import { avatarIdOf, isOwnCloudAvatar } from './avatar.js';
import type { AuthDeps } from './deps.js';
import { type DeletionInfo, type PublicUser, toDeletionInfo, toPublicUser } from './public-user.js';
import { consentInput, parseInput } from './schemas.js';
import type { CallerContext, SessionContext } from './sessions.js';
import { REFRESH_TOKEN_TTL_MS } from '../wechat/oauth.js';

const DAY_MS = 24 * 3600_000;

/** ACCOUNT_DELETION_DAYS: the cooling-off period's default and its legal ceiling. */
export const DEFAULT_DELETION_DAYS = 7;
export const MAX_DELETION_DAYS = 15;

/** Whether the user's deletion has come: the account must be erased before anything else. */
export function isDeletionDue(user: UserRecord, now: Date): boolean {
  return user.deletion !== undefined && user.deletion.deleteAt.getTime() <= now.getTime();
}

/** Starts the cooling-off period and ends every session of the user (the caller's too). */
export async function requestDeletion(
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now'>,
  options: { days: number },
): Promise<{ deletion: DeletionInfo }> {
  const now = deps.now();
  const user = await deps.store.users.scheduleDeletion(
    caller.userId,
    {
      requestedAt: now,
      deleteAt: new Date(now.getTime() + options.days * DAY_MS),
      reason: 'requested',
    },
    now,
  );
  if (!user?.deletion) throw userGone();
  // After the mark: a login racing this one either ends here or answers with `deletion`.
  await deps.store.sessions.deleteAllOfUser(caller.userId);
  return { deletion: toDeletionInfo(user.deletion) };
}

/**
 * WeChat reported the person deleted their WeChat account (user_authorization_cancellation):
 * the erasure is due at once, no cooling-off. Returns false for an unknown user.
 */
export async function deleteAtOnce(
  userId: string,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<boolean> {
  const now = deps.now();
  const user = await deps.store.users.scheduleDeletion(
    userId,
    { requestedAt: now, deleteAt: now, reason: 'wechat_account_cancelled' },
    now,
  );
  if (!user) return false;
  await deps.store.sessions.deleteAllOfUser(userId);
  return true;
}

export async function cancelDeletion(
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<{ user: PublicUser }> {
  const user = await deps.store.users.cancelDeletion(caller.userId, deps.now());
  if (user) return { user: toPublicUser(user) };
  const current = await loadUser(caller.userId, deps);
  throw new WechatAuthError(
    'deletion_not_pending',
    current.deletion
      ? 'the deletion of this account can no longer be cancelled'
      : 'no deletion of this account is pending',
  );
}

/**
 * Erases one account if its deletion is due (or resumes an erasure cut short); false when it is
 * not due (cancelled, not yet, or already gone).
 */
export async function eraseAccount(
  userId: string,
  deps: Pick<AuthDeps, 'store' | 'now' | 'cloudFiles'>,
): Promise<boolean> {
  const claimed = await deps.store.users.claimErasure(userId, deps.now());
  if (!claimed) return false;
  // A cloud avatar lives in cloud storage: deleted first, so a failure leaves the account due
  // (and the next sweep tries again) instead of a file nobody can find any more.
  // So does one still awaiting WeChat's image check.
  // Only files in the user's own folder: a profile may still hold an older avatar from elsewhere.
  const cloudAvatars = [claimed.profile.avatarUrl, claimed.pendingAvatar?.fileId].filter(
    (url): url is string => isOwnCloudAvatar(url, userId),
  );
  if (cloudAvatars.length > 0 && deps.cloudFiles) await deps.cloudFiles.delete(cloudAvatars);
  // An avatar stored before uploads had owners on record is found through the profile only.
  const profileAvatar = avatarIdOf(claimed.profile.avatarUrl);
  if (profileAvatar !== undefined) {
    const owner = await deps.store.avatars.owner(profileAvatar);
    if (owner === undefined || owner === userId) await deps.store.avatars.delete(profileAvatar);
  }
  await deps.store.accounts.erase(userId);
  return true;
}

/**
 * The sweep: erases every account whose deletion is due, `batchSize` at a time (so a backlog never
 * holds the store for long); returns how many were erased. One account that fails is reported
 * and left for the next sweep, which also ends this one after its batch.
 */
export async function eraseDueAccounts(
  deps: Pick<AuthDeps, 'store' | 'now' | 'log' | 'cloudFiles'>,
  batchSize = 100,
): Promise<number> {
  let erased = 0;
  for (;;) {
    const due = await deps.store.users.dueForErasure(deps.now(), batchSize);
    let batch = 0;
    for (const userId of due) {
      try {
        if (await eraseAccount(userId, deps)) batch += 1;
      } catch (error) {
        deps.log?.warn(
          { event: 'account_erasure_failed', userId, err: error },
          'could not erase an account whose deletion is due; the next sweep tries again',
        );
      }
    }
    erased += batch;
    if (batch < batchSize) return erased;
  }
}

/** A session as its user sees it on the device list: never its secret or hash. */
export interface SessionInfo {
  id: string;
  appid: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, to the hour. */
  lastSeenAt: string;
  /** The session of this request. */
  current: boolean;
}

export async function listSessions(
  caller: SessionContext,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<{ sessions: SessionInfo[] }> {
  const sessions = await deps.store.sessions.activeOfUser(caller.userId, deps.now());
  return {
    sessions: sessions
      .sort((a, b) => b.lastVerifiedAt.getTime() - a.lastVerifiedAt.getTime())
      .map((session) => ({
        id: session.id,
        appid: session.appid,
        createdAt: session.createdAt.toISOString(),
        lastSeenAt: session.lastVerifiedAt.toISOString(),
        current: session.id === caller.sessionId,
      })),
  };
}

/** Ends one of the caller's sessions; another user's (or no such) session is not_found. */
export async function endSession(
  caller: CallerContext,
  sessionId: string,
  deps: Pick<AuthDeps, 'store'>,
): Promise<void> {
  if (!(await deps.store.sessions.deleteOfUser(sessionId, caller.userId)))
    throw new WechatAuthError('not_found', 'no such session');
}

/**
 * 退出其他设备: ends every session of the caller's user but the caller's own, in one request (so
 * one spend of the per-user account limit, however many devices); answers how many ended.
 */
export async function endOtherSessions(
  caller: SessionContext,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<{ ended: number }> {
  const sessions = await deps.store.sessions.activeOfUser(caller.userId, deps.now());
  const others = sessions.filter((session) => session.id !== caller.sessionId);
  const deleted = await Promise.all(
    others.map((session) => deps.store.sessions.deleteOfUser(session.id, caller.userId)),
  );
  // A session that ended meanwhile (expired, or logged out) is not counted.
  return { ended: deleted.filter(Boolean).length };
}

export interface ConsentInfo {
  kind: string;
  version: string;
  appid: string;
  /** ISO 8601, as the client reported it. */
  agreedAt: string;
  /** ISO 8601, when the server received it. */
  recordedAt: string;
}

function toConsentInfo(consent: ConsentRecord): ConsentInfo {
  return {
    kind: consent.kind,
    version: consent.version,
    appid: consent.appid,
    agreedAt: consent.agreedAt.toISOString(),
    recordedAt: consent.recordedAt.toISOString(),
  };
}

/** A client's clock may be off by this much into the future. */
const CONSENT_CLOCK_SKEW_MS = 5 * 60_000;
/** An agreement reported later than this after it was given is refused (a replayed report). */
const CONSENT_MAX_AGE_MS = 30 * DAY_MS;

/** Records that the user agreed to the privacy guidelines (version, time) in the caller's app. */
export async function recordConsent(
  input: unknown,
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<{ consent: ConsentInfo }> {
  const parsed = parseInput(consentInput, input);
  const now = deps.now();
  const agreedAt = new Date(parsed.agreedAt);
  const age = now.getTime() - agreedAt.getTime();
  if (age < -CONSENT_CLOCK_SKEW_MS || age > CONSENT_MAX_AGE_MS)
    throw new WechatAuthError(
      'bad_request',
      'agreedAt: must be the time of the agreement, within the last 30 days',
    );
  await loadUser(caller.userId, deps);
  const kept = await deps.store.consents.record({
    userId: caller.userId,
    kind: parsed.kind,
    version: parsed.version,
    appid: caller.appid,
    agreedAt,
    recordedAt: now,
  });
  return { consent: toConsentInfo(kept) };
}

/** Everything stored about the caller, for GET /me/export. */
export interface AccountExport {
  /** ISO 8601. */
  exportedAt: string;
  user: PublicUser & { updatedAt: string; phoneVerifiedAt?: string };
  identities: {
    appid: string;
    openid: string;
    unionid?: string;
    createdAt: string;
    /** An Official Account web login: its scope and dates, never a token. */
    webLogin?: { scope: string; grantedAt: string; expiresAt: string };
  }[];
  sessions: {
    id: string;
    appid: string;
    createdAt: string;
    lastSeenAt: string;
    expiresAt: string;
  }[];
  rewards: { kind: string; grantedAt: string }[];
  consents: ConsentInfo[];
  avatars: { id: string; uploadedAt: string }[];
}

export async function exportAccount(
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<AccountExport> {
  const records = await deps.store.accounts.collect(caller.userId);
  if (!records) throw userGone();
  const { user } = records;
  const iso = (date: Date) => date.toISOString();
  return {
    exportedAt: iso(deps.now()),
    user: {
      ...toPublicUser(user),
      updatedAt: iso(user.updatedAt),
      ...(user.phone ? { phoneVerifiedAt: iso(user.phone.verifiedAt) } : {}),
    },
    identities: records.identities.map((identity) => ({
      appid: identity.appid,
      openid: identity.openid,
      ...(identity.unionid ? { unionid: identity.unionid } : {}),
      createdAt: iso(identity.createdAt),
      ...(identity.oauth
        ? {
            webLogin: {
              scope: identity.oauth.scope,
              grantedAt: iso(
                new Date(identity.oauth.refreshTokenExpiresAt.getTime() - REFRESH_TOKEN_TTL_MS),
              ),
              expiresAt: iso(identity.oauth.refreshTokenExpiresAt),
            },
          }
        : {}),
    })),
    sessions: records.sessions.map((session) => ({
      id: session.id,
      appid: session.appid,
      createdAt: iso(session.createdAt),
      lastSeenAt: iso(session.lastVerifiedAt),
      expiresAt: iso(session.expiresAt),
    })),
    rewards: records.rewards.map((reward) => ({
      kind: reward.kind,
      grantedAt: iso(reward.grantedAt),
    })),
    consents: records.consents.map(toConsentInfo),
    avatars: records.avatars.map((avatar) => ({
      id: avatar.id,
      uploadedAt: iso(avatar.createdAt),
    })),
  };
}
