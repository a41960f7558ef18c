/**
 * The main entry: what a runtime adapter (the HTTP server, the cloud functions) needs to wire the
 * core and call its use-cases. No database driver is imported here: `openStore` loads the one it
 * chooses, and each store has its own entry (`./sqlite`, `./mongo`, `./cloud`). Input schemas and
 * the request types derived from them are on `./schemas`; the store contract suite and the store
 * port's record types are on `./testing`. Everything else is internal to the package.
 */
export { WechatAuthError } from './errors.js';
export type { ErrorCode, WechatAuthErrorOptions } from './errors.js';
export { errorFromErrcode } from './wechat/errcodes.js';

// Wiring.
export { createAuthDeps, openStore } from './core.js';
export type { CoreConfig, StoreConfig } from './core.js';
export type { AppCredentials } from './wechat/client.js';
export type { WechatHttpOptions } from './wechat/http.js';
export type { AuthDeps, AuthLogger, CloudFiles } from './auth/deps.js';
export type { Store, StoreCollection, StoreKind } from './store/types.js';
export type { SessionContext } from './auth/sessions.js';
export type { ContentSecurity } from './auth/content.js';
export type { PhoneNumbers } from './auth/phone.js';

// Use-cases, with the answer types a client reads.
export { login, loginWithIdentity } from './auth/login.js';
export type { AppContext, IdentityLoginResult, LoginResult } from './auth/login.js';
export { me, logout } from './auth/account.js';
export { saveOpenDataProfile, updateProfile } from './auth/profile.js';
export type { ProfileOptions } from './auth/profile.js';
export { bindPhone, bindPhoneCode } from './auth/phone.js';
export {
  uploadAvatar,
  AVATAR_MAX_BYTES,
  AVATARS_PATH,
  type AvatarReencoder,
} from './auth/avatar.js';
export { applyMediaCheck } from './auth/content.js';
export { claimWelcomeReward } from './auth/rewards.js';
export type { WelcomeRewardResult } from './auth/rewards.js';
export {
  DEFAULT_DELETION_DAYS,
  MAX_DELETION_DAYS,
  cancelDeletion,
  endOtherSessions,
  endSession,
  eraseDueAccounts,
  exportAccount,
  listSessions,
  recordConsent,
  requestDeletion,
} from './auth/lifecycle.js';
export type { AccountExport, ConsentInfo, SessionInfo } from './auth/lifecycle.js';
export type { DeletionInfo, PublicUser } from './auth/public-user.js';

// Message push (the server's /wechat/push route).
export {
  decryptPushMessage,
  isEncodingAesKey,
  pushSignature,
  signatureMatches,
} from './wechat/message-push.js';
export { handlePushedEvent } from './auth/events.js';
export type { PushedEvent } from './auth/events.js';

// Official Account web login (the server's /oauth/wechat routes).
export { WechatOAuthClient } from './wechat/oauth.js';
export type { OAuthScope } from './wechat/oauth.js';
export { completeOAuthLogin, parseReturnTo } from './auth/web-login.js';
export {
  OAUTH_STATE_TTL_MS,
  checkOAuthState,
  createOAuthState,
  decodeStateBinding,
  encodeStateBinding,
} from './crypto/oauth-state.js';
