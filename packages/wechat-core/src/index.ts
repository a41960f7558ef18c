export { WechatAuthError, isWechatAuthError } from './errors.js';
export type { ErrorCode, WechatAuthErrorOptions } from './errors.js';
export { AppRegistry } from './apps.js';
export { createAuthDeps, openStore } from './core.js';
export type { CoreConfig, StoreConfig } from './core.js';

export { WechatHttp, DEFAULT_API_ORIGIN, DEFAULT_OPEN_ORIGIN } from './wechat/http.js';
export type { WechatHttpOptions } from './wechat/http.js';
export { WechatClient } from './wechat/client.js';
export type {
  AppCredentials,
  ContentVerdict,
  LoginSession,
  PhoneInfo,
  StableToken,
} from './wechat/client.js';
export { WechatOAuthClient } from './wechat/oauth.js';
export {
  decryptPushMessage,
  isEncodingAesKey,
  pushSignature,
  signatureMatches,
} from './wechat/message-push.js';
export { handlePushedEvent, handleUserEvent } from './auth/events.js';
export { applyMediaCheck, screenText, wechatContentSecurity } from './auth/content.js';
export type { ContentSecurity, MediaCheckOutcome } from './auth/content.js';
export type { EventOutcome, PushedEvent } from './auth/events.js';
export type { OAuthGrant, OAuthScope, OAuthUserInfo } from './wechat/oauth.js';
export { StableTokenBroker } from './wechat/token-broker.js';
export type { StableTokenBrokerOptions } from './wechat/token-broker.js';
export { errorFromErrcode, ACCESS_TOKEN_ERRCODES } from './wechat/errcodes.js';
export { parseInput, wechatCode } from './auth/schemas.js';

export { decryptOpenData, verifyRawDataSignature, decodeBase64Strict } from './crypto/open-data.js';
export type { DecryptOpenDataInput } from './crypto/open-data.js';
export { createSessionToken, parseSessionToken } from './crypto/session-token.js';

export type * from './store/types.js';

export { SessionManager } from './auth/sessions.js';
export type {
  CallerContext,
  IssuedSession,
  SessionContext,
  SessionManagerOptions,
} from './auth/sessions.js';
export type { AuthDeps, AuthLogger, CloudFiles } from './auth/deps.js';
export { login, loginWithIdentity } from './auth/login.js';
export { claimWelcomeReward, WELCOME_REWARD } from './auth/rewards.js';
export type { WelcomeRewardResult } from './auth/rewards.js';
export { completeOAuthLogin, parseReturnTo } from './auth/web-login.js';
export type { OAuthCallbackOutcome, WebLoginDeps } from './auth/web-login.js';
export {
  OAUTH_STATE_TTL_MS,
  checkOAuthState,
  createOAuthState,
  decodeStateBinding,
  encodeStateBinding,
} from './crypto/oauth-state.js';
export type { OAuthStateBinding, OAuthStateCheck } from './crypto/oauth-state.js';
export type { AppContext, IdentityLoginResult, LoginResult } from './auth/login.js';
export { me, logout } from './auth/account.js';
export {
  DEFAULT_DELETION_DAYS,
  MAX_DELETION_DAYS,
  cancelDeletion,
  deleteAtOnce,
  endSession,
  eraseAccount,
  eraseDueAccounts,
  exportAccount,
  listSessions,
  recordConsent,
  requestDeletion,
} from './auth/lifecycle.js';
export type { AccountExport, ConsentInfo, SessionInfo } from './auth/lifecycle.js';
export type { DeletionInfo } from './auth/public-user.js';
export {
  ANONYMOUS_NICKNAME,
  profileFromUserInfo,
  saveOpenDataProfile,
  updateProfile,
} from './auth/profile.js';
export type { ProfileOptions } from './auth/profile.js';
export { bindPhone, bindPhoneCode, wechatPhoneNumbers } from './auth/phone.js';
export type { PhoneNumber, PhoneNumbers } from './auth/phone.js';
export { toPublicUser } from './auth/public-user.js';
export {
  uploadAvatar,
  sniffImageType,
  isAvatarId,
  AVATAR_MAX_BYTES,
  AVATAR_HISTORY,
  AVATARS_PATH,
  type AvatarReencoder,
} from './auth/avatar.js';
export type { PublicUser } from './auth/public-user.js';
