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

/**
 * How a runtime exchanges a getPhoneNumber button code: WeChat's HTTPS API with the app's access
 * token (wechatPhoneNumbers), or the cloud's openapi. `openid` goes along, so WeChat refuses a
 * code another user tapped; the answer's watermark names the app it was issued for.
 */
export interface PhoneNumbers {
  exchange(input: {
    appid: string;
    openid: string;
    code: string;
  }): Promise<PhoneNumber & { watermarkAppid: string }>;
}

/** The self-hosted way: WeChat's HTTPS API with the app's stable access token. */
function wechatPhoneNumbers(deps: Pick<AuthDeps, 'wechat' | 'tokens'>): PhoneNumbers {
  return {
    async exchange({ appid, openid, code }) {
      const info = await deps.tokens.call(appid, (token) =>
        deps.wechat.getPhoneNumber(token, code, openid),
      );
      return {
        purePhoneNumber: info.purePhoneNumber,
        countryCode: info.countryCode,
        watermarkAppid: info.watermark.appid,
      };
    },
  };
}

/**
 * Binds the number behind a getPhoneNumber button code to the caller, through either runtime's
 * exchange; a number issued for another app is refused. Each success costs the account money:
 * never retried.
 */
export async function bindPhoneCode(
  code: string,
  caller: CallerContext,
  phoneNumbers: PhoneNumbers,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<{ user: PublicUser }> {
  const openid = await openidOf(caller, deps);
  const info = await phoneNumbers.exchange({ appid: caller.appid, openid, code });
  if (info.watermarkAppid !== caller.appid) {
    throw new WechatAuthError(
      'invalid_encrypted_data',
      'the phone number was issued for another app',
    );
  }
  return saveVerifiedPhone(
    caller.userId,
    { purePhoneNumber: info.purePhoneNumber, countryCode: info.countryCode },
    deps,
  );
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
  if ('code' in parsed) return bindPhoneCode(parsed.code, caller, wechatPhoneNumbers(deps), deps);
  const { data } = await decryptCallerOpenData(caller, parsed, deps);
  const checked = decryptedPhone.safeParse(data);
  if (!checked.success)
    throw new WechatAuthError('invalid_encrypted_data', 'the payload holds no phone number');
  return saveVerifiedPhone(caller.userId, checked.data, deps);
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
