/**
 * How the client reaches its backend: `http` (wx.request to the self-hosted server) or `cloud`
 * (wx.cloud.callFunction). Pages and the auth service only see `Transport`; the config module
 * picks one. Request types derive from wechat-core's input schemas (`./schemas`) and answer types are
 * wechat-core's own: the server's definitions, not copies.
 */
import type {
  AccountExport,
  ConsentInfo,
  DeletionInfo,
  LoginResult,
  PublicUser,
  SessionInfo,
  WelcomeRewardResult,
} from '@wxlogin/wechat-core';
import type {
  ConsentRequest,
  LoginRequest,
  PhoneRequest,
  ProfileRequest,
} from '@wxlogin/wechat-core/schemas';
import { ClientError, type ClientErrorCode } from './errors.js';
import type { WxApi, WxCloudApi } from './wx-api.js';

/**
 * The server's profile input, or (cloud only) a CloudID, which the platform resolves before the
 * function runs.
 */
export type ProfileBody = ProfileRequest | { cloudID: unknown };
export type PhoneBody = PhoneRequest;

/** What the legacy getUserInfo button hands the page. */
export interface LegacyUserInfo {
  encryptedData?: string | undefined;
  iv?: string | undefined;
  rawData?: string | undefined;
  signature?: string | undefined;
  cloudID?: string | undefined;
}

/** A login as the transport reports it: a session token only where the backend issues one. */
export interface TransportLogin {
  session?: { token: string; expiresAt: string };
  isNewUser: boolean;
  /** During the cooling-off period of a deletion, `user.deletion` says when the account goes. */
  user: PublicUser;
}

export interface Routes {
  login: { body: LoginRequest; answer: TransportLogin };
  me: { body: undefined; answer: { user: PublicUser } };
  userinfo: { body: ProfileBody; answer: { user: PublicUser } };
  phone: { body: PhoneBody; answer: { user: PublicUser } };
  logout: { body: undefined; answer: undefined };
  /** The welcome gift: granted on the first claim of a user across all apps, idempotent after. */
  welcomeReward: { body: undefined; answer: WelcomeRewardResult };
  /** 账号与安全: a copy of the data, the devices, deletion and its cancel, the privacy consent. */
  exportData: { body: undefined; answer: AccountExport };
  sessions: { body: undefined; answer: { sessions: SessionInfo[] } };
  /** Every session but this one (退出其他设备). */
  endOtherSessions: { body: undefined; answer: { ended: number } };
  deleteAccount: { body: undefined; answer: { deletion: DeletionInfo } };
  cancelDeletion: { body: undefined; answer: { user: PublicUser } };
  consent: { body: ConsentRequest; answer: { consent: ConsentInfo } };
}
export type Route = keyof Routes;

/** What a backend does, so the client asks the transport instead of switching on its kind. */
export interface TransportCapabilities {
  /**
   * It issues session tokens: kept in storage, ended by logout, and answered `unauthorized` once
   * expired or revoked (then the client logs in again). Without, WeChat names the caller on every
   * call and a login lasts as long as the app runs.
   */
  readonly sessions: boolean;
  /**
   * It decrypts legacy encrypted data with the session_key it stored at login, so that key must be
   * current (wx.checkSession) before a legacy button is shown. Without, open data travels as a
   * CloudID.
   */
  readonly sessionKey: boolean;
}

export interface Transport {
  readonly capabilities: TransportCapabilities;
  call<R extends Route>(
    route: R,
    body: Routes[R]['body'],
    token?: string,
  ): Promise<Routes[R]['answer']>;
  /**
   * Uploads a chosen avatar (a temporary file) and answers the URL to save as avatarUrl; `userId`
   * (the logged-in user's id) names the user's own cloud storage folder.
   */
  uploadAvatar(filePath: string, token?: string, userId?: string): Promise<string>;
  /**
   * The userinfo body for the legacy button's answer, or undefined when it carries nothing this
   * backend can use (the user declined). The server decrypts `encryptedData` with the stored
   * session_key; a cloud function cannot (the cloud hands it no session_key) and takes a CloudID.
   */
  legacyProfileBody(detail: LegacyUserInfo): ProfileBody | undefined;
}

/** Each route's method and path. */
const HTTP_ROUTES: { [R in Route]: { method: 'GET' | 'POST' | 'DELETE'; path: string } } = {
  login: { method: 'POST', path: '/login' },
  me: { method: 'GET', path: '/me' },
  userinfo: { method: 'POST', path: '/userinfo' },
  phone: { method: 'POST', path: '/phone' },
  logout: { method: 'POST', path: '/logout' },
  welcomeReward: { method: 'POST', path: '/rewards/welcome' },
  exportData: { method: 'GET', path: '/me/export' },
  sessions: { method: 'GET', path: '/me/sessions' },
  endOtherSessions: { method: 'POST', path: '/me/sessions/end-others' },
  deleteAccount: { method: 'DELETE', path: '/me' },
  cancelDeletion: { method: 'POST', path: '/me/deletion/cancel' },
  consent: { method: 'POST', path: '/me/consent' },
};

/**
 * Cloud function per route (and the `account` function's action): no session in the cloud, so
 * "me" is the idempotent login. The device list and ending other sessions have none (the cloud has no
 * sessions): they answer not_found there; logout has nothing to end.
 */
const CLOUD_ROUTES: { readonly [R in Route]?: { name: string; action?: string } } = {
  login: { name: 'login' },
  me: { name: 'login' },
  userinfo: { name: 'userinfo' },
  phone: { name: 'phone' },
  welcomeReward: { name: 'rewards' },
  exportData: { name: 'account', action: 'export' },
  deleteAccount: { name: 'account', action: 'delete' },
  cancelDeletion: { name: 'account', action: 'cancel' },
  consent: { name: 'account', action: 'consent' },
};

interface ErrorEnvelope {
  error?: { code?: unknown; message?: unknown };
}

/**
 * The self-hosted server over wx.request. `appid` (from wx.getAccountInfoSync()) goes out as
 * X-WeChat-Appid, so a server that serves several mini-programs knows which one is calling.
 */
export class HttpTransport implements Transport {
  readonly capabilities: TransportCapabilities = { sessions: true, sessionKey: true };

  constructor(
    private readonly wx: WxApi,
    private readonly baseUrl: string,
    private readonly options: { appid?: string | undefined; timeoutMs?: number } = {},
  ) {}

  legacyProfileBody(detail: LegacyUserInfo): ProfileBody | undefined {
    const { encryptedData, iv, rawData, signature } = detail;
    if (!encryptedData || !iv) return undefined;
    return { encryptedData, iv, ...(rawData && signature ? { rawData, signature } : {}) };
  }

  private headers(token: string | undefined): Record<string, string> {
    return {
      ...(this.options.appid ? { 'x-wechat-appid': this.options.appid } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
  }

  async call<R extends Route>(
    route: R,
    body: Routes[R]['body'],
    token?: string,
  ): Promise<Routes[R]['answer']> {
    const { method, path } = HTTP_ROUTES[route];
    const answer = await new Promise<{
      statusCode: number;
      data: unknown;
      header: Record<string, string>;
    }>((resolve, reject) => {
      this.wx.request({
        url: `${this.baseUrl}${path}`,
        method,
        ...(body === undefined ? {} : { data: body }),
        header: { 'content-type': 'application/json', ...this.headers(token) },
        timeout: this.options.timeoutMs ?? 10_000,
        success: resolve,
        fail: (error) => {
          const timedOut = /timeout/i.test(error.errMsg);
          reject(new ClientError(timedOut ? 'timeout' : 'network', error.errMsg));
        },
      });
    });
    if (answer.statusCode >= 200 && answer.statusCode < 300) {
      if (answer.statusCode === 204 || route === 'logout') return undefined;
      if (route === 'login') {
        const login = answer.data as LoginResult;
        return {
          session: { token: login.token, expiresAt: login.expiresAt },
          isNewUser: login.isNewUser,
          user: login.user,
        } as Routes[R]['answer'];
      }
      return answer.data as Routes[R]['answer'];
    }
    throw errorFromAnswer(answer.statusCode, answer.data, answer.header);
  }

  async uploadAvatar(filePath: string, token?: string): Promise<string> {
    const answer = await new Promise<{ statusCode: number; data: string }>((resolve, reject) => {
      this.wx.uploadFile({
        url: `${this.baseUrl}/avatar`,
        filePath,
        name: 'file',
        header: this.headers(token),
        success: resolve,
        fail: (error) => reject(new ClientError('network', error.errMsg)),
      });
    });
    let data: unknown;
    try {
      data = JSON.parse(answer.data);
    } catch {
      data = undefined;
    }
    const avatarUrl = (data as { avatarUrl?: unknown } | undefined)?.avatarUrl;
    if (answer.statusCode === 200 && typeof avatarUrl === 'string') return avatarUrl;
    throw errorFromAnswer(answer.statusCode, data, {});
  }
}

/** The server's error envelope as a ClientError (Retry-After kept for rate_limited). */
function errorFromAnswer(
  statusCode: number,
  data: unknown,
  header: Record<string, string>,
): ClientError {
  const envelope = (typeof data === 'object' && data ? data : {}) as ErrorEnvelope;
  const code =
    typeof envelope.error?.code === 'string'
      ? (envelope.error.code as ClientErrorCode)
      : 'internal';
  const message =
    typeof envelope.error?.message === 'string' ? envelope.error.message : `HTTP ${statusCode}`;
  const retryAfter = Number(header['retry-after'] ?? header['Retry-After']);
  return new ClientError(code, message, Number.isFinite(retryAfter) ? retryAfter : undefined);
}

interface CloudEnvelope {
  ok?: boolean;
  error?: { code?: unknown; message?: unknown };
  [key: string]: unknown;
}

/** The cloud functions over wx.cloud.callFunction; the platform vouches for the caller. */
export class CloudTransport implements Transport {
  readonly capabilities: TransportCapabilities = { sessions: false, sessionKey: false };

  constructor(private readonly cloud: WxCloudApi) {}

  async call<R extends Route>(route: R, body: Routes[R]['body']): Promise<Routes[R]['answer']> {
    if (route === 'logout') return undefined;
    const target = CLOUD_ROUTES[route];
    if (target === undefined)
      throw new ClientError('not_found', `${route} is not available with the cloud functions yet`);
    const { name, action } = target;
    let result: CloudEnvelope;
    try {
      const data = action
        ? { action, ...(body as Record<string, unknown> | undefined) }
        : (body as Record<string, unknown> | undefined);
      const called = await this.cloud.callFunction({
        name,
        ...(data === undefined || name === 'login' ? {} : { data }),
      });
      result = (called.result ?? {}) as CloudEnvelope;
    } catch (error) {
      throw new ClientError(
        'network',
        (error as { errMsg?: string }).errMsg ?? 'cloud call failed',
      );
    }
    if (result.ok !== true) {
      const code =
        typeof result.error?.code === 'string'
          ? (result.error.code as ClientErrorCode)
          : 'internal';
      throw new ClientError(
        code,
        typeof result.error?.message === 'string' ? result.error.message : 'cloud function failed',
      );
    }
    const { ok: _ok, ...data } = result;
    return data as Routes[R]['answer'];
  }

  legacyProfileBody(detail: LegacyUserInfo): ProfileBody | undefined {
    return detail.cloudID ? { cloudID: this.cloud.CloudID(detail.cloudID) } : undefined;
  }

  /**
   * Cloud storage: the fileID is what <image src> and the userinfo function accept, from the
   * user's own folder `avatars/<userId>/` only (the function refuses any other file).
   */
  async uploadAvatar(filePath: string, _token?: string, userId?: string): Promise<string> {
    if (!userId) throw new ClientError('unauthorized', 'log in before uploading an avatar');
    const extension = /\.(\w+)$/.exec(filePath)?.[1] ?? 'png';
    const name = `${Date.now()}-${Math.random().toString(36).slice(2, 10)}.${extension}`;
    const cloudPath = `avatars/${userId}/${name}`;
    try {
      return (await this.cloud.uploadFile({ cloudPath, filePath })).fileID;
    } catch (error) {
      throw new ClientError(
        'network',
        (error as { errMsg?: string }).errMsg ?? 'cloud upload failed',
      );
    }
  }
}
