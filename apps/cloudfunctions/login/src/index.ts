/**
 * Cloud function `login`: upserts the user WeChat identified for this call (OPENID, APPID, UNIONID
 * from cloud.getWXContext()); no code exchange, no token: the cloud vouches for every call.
 * Result: { ok: true, isNewUser, user } or { ok: false, error: { code, message } }.
 */
import { loginWithIdentity } from '@wxlogin/wechat-core';
import { callerIdentity, cloudDeps, initCloud, respond, withStore } from '@wxlogin/cloud-runtime';

initCloud();

export async function main(_event: unknown, _context: unknown) {
  return respond(() => withStore((store) => loginWithIdentity(callerIdentity(), cloudDeps(store))));
}
