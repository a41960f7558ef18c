/** OAuth test wiring: the server's own key signs states a test hands the callback directly. */
import { createOAuthState, encodeStateBinding } from '@wxlogin/wechat-core';

/** The OAUTH_STATE_SECRET the OAuth test servers run with; test-only, not a real key. */
export const TEST_STATE_SECRET = 'oauth-test-only-state-secret-0123456789';

/**
 * A genuine state (returnTo `/`) signed with the test servers' key, issued `ageMs` ago, and the
 * `wxlogin_oauth` cookie value that binds it to a browser.
 */
export function signedState(ageMs = 0): { state: string; cookie: string } {
  const { state, binding } = createOAuthState('/', {
    secret: TEST_STATE_SECRET,
    now: new Date(Date.now() - ageMs),
  });
  return { state, cookie: encodeStateBinding(binding) };
}
