/**
 * Cloud function `phone`: exchanges the getPhoneNumber button's code through the cloud's openapi
 * (needs config.json's phonenumber.getPhoneNumber permission; no access token to manage) and
 * binds the number to the caller. Each success costs the account money: never retried.
 * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/phone-number/api_getphonenumber
 */
import { bindPhoneCode, loginWithIdentity } from '@wxlogin/wechat-core';
import { parseInput, phoneCodeInput } from '@wxlogin/wechat-core/schemas';
import {
  callerIdentity,
  cloudDeps,
  cloudPhoneNumbers,
  eventObject,
  initCloud,
  respond,
  withStore,
} from '@wxlogin/cloud-runtime';

initCloud();

export async function main(event: unknown, _context: unknown) {
  return respond(async () => {
    const caller = callerIdentity();
    const { code } = parseInput(phoneCodeInput, eventObject(event));
    return withStore(async (store) => {
      const deps = cloudDeps(store);
      const { user } = await loginWithIdentity(caller, deps);
      // The same exchange-and-watermark rule as the server's, through the cloud's openapi.
      return bindPhoneCode(code, { userId: user.id, appid: caller.appid }, cloudPhoneNumbers, deps);
    });
  });
}
