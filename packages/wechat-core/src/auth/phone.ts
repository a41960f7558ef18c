/**
 * bindPhone: the getPhoneNumber button's code exchanged through the access-token broker (each
 * success costs the account money, so never retried once answered), or the legacy encrypted
 * payload decrypted with the stored session_key.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/getPhoneNumber.html
 */
import * as z from 'zod';
import { WechatAuthError } from '../errors.js';
import { openidOf, userGone } from './account.js';
import type { AuthDeps } from './deps.js';
import { decryptCallerOpenData } from './profile.js';
import { type PublicUser, toPublicUser } from './public-user.js';
import { parseInput, phoneInput } from './schemas.js';
import type { CallerContext } from './sessions.js';

export interface PhoneNumber {
  purePhoneNumber: string;
  countryCode: string;
}

const decryptedPhone = z.object({
  purePhoneNumber: z.string().regex(/^\d{4,20}$/),
  countryCode: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(z.string().regex(/^\d{1,4}$/)),
});

export async function bindPhone(
  input: unknown,
  caller: CallerContext,
  deps: Pick<AuthDeps, 'store' | 'now' | 'wechat' | 'tokens'>,
): Promise<{ user: PublicUser }> {
  const parsed = parseInput(phoneInput, input);
  let phone: PhoneNumber;
  if ('code' in parsed) {
    // The caller's openid goes along, so WeChat refuses a code that another user tapped.
    const openid = await openidOf(caller, deps);
    const info = await deps.tokens.call(caller.appid, (token) =>
      deps.wechat.getPhoneNumber(token, parsed.code, openid),
    );
    if (info.watermark.appid !== caller.appid) {
      throw new WechatAuthError(
        'invalid_encrypted_data',
        'the phone number was issued for another app',
      );
    }
    phone = { purePhoneNumber: info.purePhoneNumber, countryCode: info.countryCode };
  } else {
    const { data } = await decryptCallerOpenData(caller, parsed, deps);
    const checked = decryptedPhone.safeParse(data);
    if (!checked.success)
      throw new WechatAuthError('invalid_encrypted_data', 'the payload holds no phone number');
    phone = checked.data;
  }
  return saveVerifiedPhone(caller.userId, phone, deps);
}

/** Stores a phone number WeChat vouched for (also used by the cloud runtime's openapi result). */
export async function saveVerifiedPhone(
  userId: string,
  phone: PhoneNumber,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<{ user: PublicUser }> {
  const now = deps.now();
  const user = await deps.store.users.setPhone(userId, { ...phone, verifiedAt: now }, now);
  if (!user) throw userGone();
  return { user: toPublicUser(user) };
}
