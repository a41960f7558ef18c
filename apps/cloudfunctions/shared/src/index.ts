/**
 * What the cloud functions share: the trusted caller from cloud.getWXContext(), the store (the
 * cloud database, or MongoDB from MONGODB_URL; reused while the instance is warm), and the result envelope
 * `{ ok: true, ...data }` / `{ ok: false, error: { code, message } }` with the codes of DESIGN.md.
 */
import {
  type AuthLogger,
  type CloudFiles,
  type ContentSecurity,
  type ErrorCode,
  type PhoneNumbers,
  type Store,
  WechatAuthError,
  errorFromErrcode,
} from '@wxlogin/wechat-core';
import * as cloud from 'wx-server-sdk';

export type CloudResult<T> =
  ({ ok: true } & T) | { ok: false; error: { code: ErrorCode; message: string } };

export interface CloudCaller {
  appid: string;
  openid: string;
  unionid?: string | undefined;
  /** The cloud environment this invocation runs in (getWXContext().ENV). */
  env?: string | undefined;
}

/** The caller WeChat vouches for. Read inside main: the context belongs to this invocation. */
export function callerIdentity(): CloudCaller {
  const context = cloud.getWXContext();
  const appid = context.APPID;
  const openid = context.OPENID;
  if (typeof appid !== 'string' || !appid || typeof openid !== 'string' || !openid) {
    throw new WechatAuthError(
      'unauthorized',
      'no caller identity: call this function from the mini-program',
    );
  }
  const unionid =
    typeof context.UNIONID === 'string' && context.UNIONID ? context.UNIONID : undefined;
  const env = typeof context.ENV === 'string' && context.ENV ? context.ENV : undefined;
  return { appid, openid, unionid, env };
}

/**
 * What triggered this invocation (getWXContext().SOURCE: `wx_client`, `wx_trigger`...), then each
 * function it passed through (`wx_client,scf`).
 * @see https://developers.weixin.qq.com/minigame/dev/wxcloud/reference-sdk-api/utils/Cloud.getWXContext.md
 */
function invocationSources(): string[] {
  const source = cloud.getWXContext().SOURCE;
  return typeof source === 'string' && source ? source.split(',') : [];
}

/** Sources a person can start: the mini-program, DevTools, the HTTP API, another function. */
const CALLER_SOURCES = ['wx_client', 'wx_devtools', 'wx_localdebug', 'wx_http', 'scf'];

/**
 * Whether this invocation was started by a caller rather than by the platform itself (a timer
 * trigger, a message push): the platform adds `userInfo` to a caller's event, and SOURCE names
 * the client. An event that is not an object is no platform event either. The one check for
 * functions (or branches) that only the platform may start.
 */
export function calledByClient(event: unknown): boolean {
  return (
    !isEventObject(event) ||
    'userInfo' in event ||
    invocationSources().some((s) => CALLER_SOURCES.includes(s))
  );
}

/** Events are JSON objects; anything else (null, an array, a string) is no event of ours. */
function isEventObject(event: unknown): event is Record<string, unknown> {
  return typeof event === 'object' && event !== null && !Array.isArray(event);
}

let opened: Promise<Store> | undefined;

/**
 * Runs `work` with the store, opened once per warm instance: the environment's own cloud database
 * by default (nothing to provision), or MongoDB when MONGODB_URL is set in the function's
 * configuration. A failed open is tried again on the next invocation.
 */
export async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  opened ??= openCloudStore().catch((error: unknown) => {
    opened = undefined;
    throw error;
  });
  return work(await opened);
}

async function openCloudStore(): Promise<Store> {
  const url = process.env.MONGODB_URL;
  if (url) {
    // Loaded on first use, not at cold start: evaluating the MongoDB driver is most of a cold
    // start, and a function on the cloud database never needs it.
    const { MongoStore } = await import('@wxlogin/wechat-core/mongo');
    return MongoStore.connect({ url });
  }
  const { CloudDatabaseStore } = await import('@wxlogin/wechat-core/cloud');
  // throwOnNotFound: false, so reading a missing document answers null instead of rejecting.
  return CloudDatabaseStore.open(cloud.database({ throwOnNotFound: false }));
}

/**
 * What the use-cases take in the cloud: the store, the clock, and a log whose warnings (a unionid
 * conflict, say) land in the function's log, one JSON line each, as the cloud console shows them.
 */
export function cloudDeps(store: Store): {
  store: Store;
  now: () => Date;
  log: AuthLogger;
  content: ContentSecurity;
  cloudFiles: CloudFiles;
} {
  return {
    store,
    now: () => new Date(),
    content: cloudContentSecurity,
    cloudFiles,
    log: {
      warn: (details, message) =>
        console.warn(JSON.stringify({ level: 'warn', message, ...details })),
    },
  };
}

/** An openapi rejection ({ errCode, errMsg }) as the error of the same WeChat errcode. */
function fromCloudSdkError(error: unknown, api: string): WechatAuthError {
  const errCode = (error as { errCode?: unknown } | null)?.errCode;
  if (typeof errCode === 'number') return errorFromErrcode(errCode, api);
  return new WechatAuthError('wechat_unavailable', `${api}: cloud call failed`, { cause: error });
}

/** Calls a cloud.openapi API; a rejection becomes the error of its WeChat errcode. */
async function openapi<T>(api: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromCloudSdkError(error, api);
  }
}

/** Calls cloud storage; a rejection (not an answer about a file) is store_unavailable. */
async function storage<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new WechatAuthError('store_unavailable', `cloud storage: ${what} failed`, {
      cause: error,
    });
  }
}

/** Runs a handler and wraps its outcome in the envelope; internal failures are logged, not shown. */
export async function respond<T extends object>(
  handler: () => Promise<T>,
): Promise<CloudResult<T>> {
  try {
    return { ok: true, ...(await handler()) };
  } catch (thrown) {
    const error = WechatAuthError.from(thrown);
    if (error.code === 'internal' || error.code === 'store_unavailable') {
      console.error(
        JSON.stringify({
          level: 'error',
          code: error.code,
          message: error.message,
          cause: error.cause instanceof Error ? error.cause.message : undefined,
        }),
      );
    }
    const message =
      error.code === 'internal' ? 'internal error (see the function logs)' : error.message;
    return { ok: false, error: { code: error.code, message } };
  }
}

/** The event's own fields: the platform adds userInfo ({ appId, openId }) to every event. */
export function eventObject(event: unknown): Record<string, unknown> {
  if (!isEventObject(event))
    throw new WechatAuthError('bad_request', 'the event must be an object');
  const { userInfo: _platform, ...own } = event;
  return own;
}

export function initCloud(): void {
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
}

/**
 * phonenumber.getPhoneNumber through the cloud's openapi, for the caller's own `openid` (a code
 * another user tapped is refused); a rejection keeps its WeChat errcode.
 */
export const cloudPhoneNumbers: PhoneNumbers = {
  async exchange({ code, openid }) {
    const answer = await openapi('phonenumber.getPhoneNumber', () =>
      cloud.openapi.phonenumber.getPhoneNumber({ code, openid }),
    );
    const info = answer.phoneInfo;
    return {
      purePhoneNumber: info.purePhoneNumber,
      countryCode: String(info.countryCode),
      watermarkAppid: info.watermark.appid,
    };
  },
};

/**
 * WeChat content security through the cloud's openapi (security.msgSecCheck and
 * security.mediaCheckAsync, v2, scene 1), for the function's own app; a rejection keeps its
 * WeChat errcode. Each function that checks declares the API in its config.json permissions.
 */
export const cloudContentSecurity: ContentSecurity = {
  async checkText({ openid, content }) {
    const answer = await openapi('security.msgSecCheck', () =>
      cloud.openapi.security.msgSecCheck({ content, version: 2, scene: 1, openid }),
    );
    const suggest = answer.result?.suggest;
    if (suggest !== 'pass' && suggest !== 'review' && suggest !== 'risky')
      throw new WechatAuthError('wechat_unavailable', 'security.msgSecCheck: unreadable answer');
    return { suggest, label: Number(answer.result.label), traceId: String(answer.traceId) };
  },
  async submitImage({ openid, mediaUrl }) {
    const answer = await openapi('security.mediaCheckAsync', () =>
      cloud.openapi.security.mediaCheckAsync({
        mediaUrl,
        mediaType: 2,
        version: 2,
        scene: 1,
        openid,
      }),
    );
    return { traceId: String(answer.traceId) };
  },
};

/** How long WeChat's image check may take to download an avatar: it answers within 30 minutes. */
const CHECK_LINK_SECONDS = 3600;

/**
 * Cloud storage: an avatar's temporary link for WeChat's image check, and the files of an erased
 * account (its avatars) deleted with it.
 */
export const cloudFiles: CloudFiles = {
  async temporaryUrl(fileId) {
    const answer = await storage('getTempFileURL', () =>
      cloud.getTempFileURL({ fileList: [{ fileID: fileId, maxAge: CHECK_LINK_SECONDS }] }),
    );
    const file = Array.isArray(answer?.fileList) ? answer.fileList[0] : undefined;
    if (file?.status === 0 && /^https?:\/\//.test(file.tempFileURL)) return file.tempFileURL;
    if (file && /NONEXIST|not ?exist/i.test(file.errMsg))
      throw new WechatAuthError(
        'bad_request',
        'avatarUrl: no such file in cloud storage (upload it with wx.cloud.uploadFile first)',
      );
    throw new WechatAuthError(
      'store_unavailable',
      `cloud storage: getTempFileURL answered ${file ? `${file.status} ${file.errMsg}` : 'no file'}`,
    );
  },
  async delete(fileIds) {
    if (fileIds.length === 0) return;
    const answer = await storage('deleteFile', () => cloud.deleteFile({ fileList: [...fileIds] }));
    // A file already gone is what we wanted; anything else is tried again at the next sweep.
    const failed = answer.fileList.filter((f) => f.status !== 0 && !/not ?exist/i.test(f.errMsg));
    if (failed.length > 0)
      throw new WechatAuthError(
        'store_unavailable',
        `cloud storage: ${failed.length} file(s) could not be deleted`,
      );
  },
};
