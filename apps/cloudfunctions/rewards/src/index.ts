/**
 * Cloud function `rewards`: claims the welcome gift for the user WeChat identified for this call.
 * Granted at most once per user across all apps (a unionid-linked user is one user), whatever
 * the number of concurrent calls: the store's unique key decides.
 * Result: { ok: true, granted, grantedAt } or { ok: false, error: { code, message } }.
 */
import { claimWelcomeReward, loginWithIdentity } from '@wxlogin/wechat-core';
import { callerIdentity, cloudDeps, initCloud, respond, withStore } from '@wxlogin/cloud-runtime';

initCloud();

export async function main(_event: unknown, _context: unknown) {
  return respond(() =>
    withStore(async (store) => {
      const deps = cloudDeps(store);
      const { user } = await loginWithIdentity(callerIdentity(), deps);
      return claimWelcomeReward({ userId: user.id }, deps);
    }),
  );
}
