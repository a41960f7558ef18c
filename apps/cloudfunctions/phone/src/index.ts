/**
 * Cloud function `phone`: exchanges the getPhoneNumber button's code through the cloud's openapi
 * (needs config.json's phonenumber.getPhoneNumber permission; no access token to manage) and
 * binds the number to the caller. Each success costs the account money: never retried.
 * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/phone-number/api_getphonenumber
 */
import {
  WechatAuthError,
  loginWithIdentity,
  parseInput,
  saveVerifiedPhone,
  wechatCode,
} from '@wxlogin/wechat-core';
import * as z from 'zod';
import {
  callerIdentity,
  cloudDeps,
  eventObject,
  getPhoneNumber,
  initCloud,
  respond,
  withStore,
} from '@wxlogin/cloud-runtime';

initCloud();

const phoneEvent = z.strictObject({ code: wechatCode });

export async function main(event: unknown, _context: unknown) {
  return respond(async () => {
    const caller = callerIdentity();
    const { code } = parseInput(phoneEvent, eventObject(event));
    const info = await getPhoneNumber(code, caller.openid);
    if (info.watermarkAppid !== caller.appid) {
      throw new WechatAuthError(
        'invalid_encrypted_data',
        'the phone number was issued for another app',
      );
    }
    return withStore(async (store) => {
      const deps = cloudDeps(store);
      const { user } = await loginWithIdentity(caller, deps);
      return saveVerifiedPhone(
        user.id,
        { purePhoneNumber: info.purePhoneNumber, countryCode: info.countryCode },
        deps,
      );
    });
  });
}
