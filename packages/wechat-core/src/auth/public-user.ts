import type { AccountDeletion, UserRecord } from '../store/types.js';

/** A pending deletion as clients see it. */
export interface DeletionInfo {
  /** ISO 8601. */
  requestedAt: string;
  /** ISO 8601: when the account is erased unless cancelled before. */
  deleteAt: string;
}

export function toDeletionInfo(deletion: AccountDeletion): DeletionInfo {
  return {
    requestedAt: deletion.requestedAt.toISOString(),
    deleteAt: deletion.deleteAt.toISOString(),
  };
}

/** What clients may see of a user: never openid, unionid or session_key. */
export interface PublicUser {
  id: string;
  nickname?: string;
  avatarUrl?: string;
  /**
   * A new cloud avatar (file ID) awaiting WeChat's image check: shown to its owner only (every
   * answer carrying a PublicUser goes to that user), on the profile once it passes.
   */
  avatarPending?: string;
  phone?: { purePhoneNumber: string; countryCode: string };
  /** While a deletion is pending (ISO 8601): the client offers to cancel it. */
  deletion?: DeletionInfo;
  createdAt: string;
}

export function toPublicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    ...(user.profile.nickname !== undefined ? { nickname: user.profile.nickname } : {}),
    ...(user.profile.avatarUrl !== undefined ? { avatarUrl: user.profile.avatarUrl } : {}),
    ...(user.pendingAvatar ? { avatarPending: user.pendingAvatar.fileId } : {}),
    ...(user.phone
      ? {
          phone: {
            purePhoneNumber: user.phone.purePhoneNumber,
            countryCode: user.phone.countryCode,
          },
        }
      : {}),
    ...(user.deletion ? { deletion: toDeletionInfo(user.deletion) } : {}),
    createdAt: user.createdAt.toISOString(),
  };
}
