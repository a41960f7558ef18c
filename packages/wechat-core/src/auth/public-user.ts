import type { UserRecord } from '../store/types.js';

/** What clients may see of a user: never openid, unionid or session_key. */
export interface PublicUser {
  id: string;
  nickname?: string;
  avatarUrl?: string;
  phone?: { purePhoneNumber: string; countryCode: string };
  createdAt: string;
}

export function toPublicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    ...(user.profile.nickname !== undefined ? { nickname: user.profile.nickname } : {}),
    ...(user.profile.avatarUrl !== undefined ? { avatarUrl: user.profile.avatarUrl } : {}),
    ...(user.phone
      ? {
          phone: {
            purePhoneNumber: user.phone.purePhoneNumber,
            countryCode: user.phone.countryCode,
          },
        }
      : {}),
    createdAt: user.createdAt.toISOString(),
  };
}
