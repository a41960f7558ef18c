/**
 * The client's login state. At launch: a stored, unexpired token that wx.checkSession still
 * vouches for is reused; otherwise wx.login -> /login (or the login cloud function) and the token
 * is stored. Any number of concurrent callers while logged out cause one wx.login and one /login.
 * Requests carry the token; on `unauthorized` the token is dropped, the service logs in once and
 * retries once (never a loop); on `rate_limited` it waits Retry-After (if short) and retries once.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/login.html
 */
import type { PublicUser } from '@wxlogin/wechat-core';
import { ClientError, isClientError } from './errors.js';
import type {
  LegacyUserInfo,
  ProfileBody,
  Route,
  Routes,
  Transport,
  TransportCapabilities,
} from './transport.js';
import type { WxApi } from './wx-api.js';

export const SESSION_STORAGE_KEY = 'wxlogin.session';

export interface StoredSession {
  token: string;
  /** ISO 8601, as the server answered. */
  expiresAt: string;
}

export interface AuthServiceOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Longest Retry-After honoured by waiting; longer ones surface as rate_limited. Default 10 s. */
  maxRetryAfterSeconds?: number;
}

export class AuthService {
  private loginInFlight: Promise<void> | undefined;
  /** wx.checkSession is asked once per launch, not before every request. */
  private sessionChecked = false;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetryAfterSeconds: number;
  /** What the backend does (sessions, the session_key): pages show only what it offers. */
  get capabilities(): TransportCapabilities {
    return this.transport.capabilities;
  }

  /** The user the last login answered with (its `deletion` set during a cooling-off period). */
  user: PublicUser | undefined;

  constructor(
    private readonly wx: WxApi,
    private readonly transport: Transport,
    options: AuthServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 10;
  }

  /** The stored session if it is well-formed and not expired. */
  storedSession(): StoredSession | undefined {
    const value = this.wx.getStorageSync(SESSION_STORAGE_KEY) as
      Partial<StoredSession> | '' | undefined;
    if (!value || typeof value.token !== 'string' || typeof value.expiresAt !== 'string')
      return undefined;
    if (!(Date.parse(value.expiresAt) > this.now())) return undefined;
    return { token: value.token, expiresAt: value.expiresAt };
  }

  /** Logged in when this resolves (App.onLaunch calls it; so does every request). */
  async ensureLoggedIn(): Promise<void> {
    if (this.loginInFlight) return this.loginInFlight;
    if (!this.transport.capabilities.sessions) {
      // Without sessions, a user this launch logged in is all there is to keep.
      if (!this.user) await this.login();
      return;
    }
    if (this.storedSession()) {
      if (this.sessionChecked) return;
      if (await this.checkSession()) {
        this.sessionChecked = true;
        return;
      }
    }
    await this.login();
  }

  /** wx.login -> backend login; concurrent callers share one. */
  login(): Promise<void> {
    this.loginInFlight ??= this.performLogin().finally(() => {
      this.loginInFlight = undefined;
    });
    return this.loginInFlight;
  }

  /** A backend call with the session: one re-login + retry on unauthorized, never more. */
  async request<R extends Route>(route: R, body: Routes[R]['body']): Promise<Routes[R]['answer']> {
    return this.withSession((token) => this.callHonouringRetryAfter(route, body, token));
  }

  /** Uploads a chosen avatar with the session (one re-login on unauthorized, as request does). */
  uploadAvatar(filePath: string): Promise<string> {
    return this.withSession((token) => this.transport.uploadAvatar(filePath, token, this.user?.id));
  }

  /** The userinfo body for the legacy getUserInfo button's answer; undefined if declined. */
  legacyProfileBody(detail: LegacyUserInfo): ProfileBody | undefined {
    return this.transport.legacyProfileBody(detail);
  }

  /** Runs a call with the stored token; on unauthorized, logs in once and runs it once more. */
  private async withSession<T>(call: (token: string | undefined) => Promise<T>): Promise<T> {
    await this.ensureLoggedIn();
    const token = this.storedSession()?.token;
    try {
      return await call(token);
    } catch (error) {
      if (!isClientError(error, 'unauthorized') || !this.transport.capabilities.sessions)
        throw error;
      // Only the caller whose token failed drops it; others already have a newer one.
      if (this.storedSession()?.token === token) {
        this.wx.removeStorageSync(SESSION_STORAGE_KEY);
        await this.login();
      } else {
        await this.ensureLoggedIn();
      }
      return call(this.storedSession()?.token);
    }
  }

  /** Ends the session on the server (best effort) and forgets it here. */
  async logout(): Promise<void> {
    const session = this.storedSession();
    this.wx.removeStorageSync(SESSION_STORAGE_KEY);
    this.sessionChecked = false;
    this.user = undefined;
    if (session && this.transport.capabilities.sessions) {
      await this.transport.call('logout', undefined, session.token).catch(() => undefined);
    }
  }

  /**
   * Before showing a legacy button whose data is encrypted with session_key (getUserInfo, the old
   * getPhoneNumber): make sure the key our server holds is current. Never call wx.login inside the
   * button's callback: it can rotate the key the data was just encrypted with.
   */
  async prepareForEncryptedData(): Promise<void> {
    if (this.transport.capabilities.sessionKey && !(await this.checkSession())) await this.login();
  }

  /** After session_key_stale: log in again, so the user's next tap sends fresh data. */
  recoverFromStaleKey(): Promise<void> {
    return this.login();
  }

  private async performLogin(): Promise<void> {
    const code = await new Promise<string>((resolve, reject) => {
      this.wx.login({
        success: (result) => resolve(result.code),
        fail: (error) => reject(new ClientError('login_failed', error.errMsg)),
      });
    });
    const result = await this.transport.call('login', { code });
    if (result.session) this.wx.setStorageSync(SESSION_STORAGE_KEY, result.session);
    this.sessionChecked = true;
    this.user = result.user;
  }

  private checkSession(): Promise<boolean> {
    return new Promise((resolve) => {
      this.wx.checkSession({ success: () => resolve(true), fail: () => resolve(false) });
    });
  }

  private async callHonouringRetryAfter<R extends Route>(
    route: R,
    body: Routes[R]['body'],
    token: string | undefined,
  ): Promise<Routes[R]['answer']> {
    try {
      return await this.transport.call(route, body, token);
    } catch (error) {
      const wait = isClientError(error, 'rate_limited') ? error.retryAfterSeconds : undefined;
      if (wait === undefined || wait > this.maxRetryAfterSeconds) throw error;
      await this.sleep(wait * 1000);
      return this.transport.call(route, body, token);
    }
  }
}
