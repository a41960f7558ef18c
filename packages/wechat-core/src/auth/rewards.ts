/**
 * The welcome gift: granted at most once per user, across every app the user logs in from (a
 * unionid-linked user is one user). The store's unique key decides, never a read-then-write, so
 * any number of concurrent claims grant it exactly once.
 */
import type { AuthDeps } from './deps.js';
import type { CallerContext } from './sessions.js';

const WELCOME_REWARD = 'welcome';

export interface WelcomeRewardResult {
  /** True only for the claim that granted it. */
  granted: boolean;
  /** ISO 8601: when it was granted, by this claim or an earlier one. */
  grantedAt: string;
}

export async function claimWelcomeReward(
  caller: Pick<CallerContext, 'userId'>,
  deps: Pick<AuthDeps, 'store' | 'now'>,
): Promise<WelcomeRewardResult> {
  const grant = await deps.store.rewards.grantOnce(caller.userId, WELCOME_REWARD, deps.now());
  return { granted: grant.granted, grantedAt: grant.grantedAt.toISOString() };
}
