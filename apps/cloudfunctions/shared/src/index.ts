/**
 * What the cloud functions share: the trusted caller from cloud.getWXContext(), the store
 * (MongoDB from MONGODB_URL, reused while the instance is warm), and the result envelope
 * `{ ok: true, ...data }` / `{ ok: false, error: { code, message } }` with the codes of DESIGN.md.
 */
import {
  type AuthLogger,
  type ErrorCode,
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
  unionid?: string;
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
  return { appid, openid, ...(unionid ? { unionid } : {}) };
}

let mongo: Promise<Store> | undefined;

/**
 * Runs `work` with the store. Production: MongoDB from MONGODB_URL, one client per warm instance.
 * Local runs and tests may set WXLOGIN_DATA_DIR instead: the embedded store, opened for this
 * invocation only (an instance's /tmp is not shared, so never use it in a real deployment).
 */
export async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
  const url = process.env.MONGODB_URL;
  // Loaded on first use, not at cold start: evaluating the MongoDB driver is most of a cold start.
  const { EmbeddedStore, MongoStore } = await import('@wxlogin/wechat-core/stores');
  if (url) {
    mongo ??= MongoStore.connect({ url }).catch((error: unknown) => {
      mongo = undefined; // try again on the next invocation
      throw error;
    });
    return work(await mongo);
  }
  const dataDir = process.env.WXLOGIN_DATA_DIR;
  if (!dataDir) {
    throw new WechatAuthError('store_unavailable', 'MONGODB_URL is not set in this cloud function');
  }
  const store = await EmbeddedStore.open({ dataDir, waitForLockMs: 10_000 });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * What the use-cases take in the cloud: the store, the clock, and a log whose warnings (a unionid
 * conflict, say) land in the function's log, one JSON line each, as the cloud console shows them.
 */
export function cloudDeps(store: Store): { store: Store; now: () => Date; log: AuthLogger } {
  return {
    store,
    now: () => new Date(),
    log: {
      warn: (details, message) =>
        console.warn(JSON.stringify({ level: 'warn', message, ...details })),
    },
  };
}

/** An openapi rejection ({ errCode, errMsg }) as the error of the same WeChat errcode. */
export function fromCloudSdkError(error: unknown, api: string): WechatAuthError {
  const errCode = (error as { errCode?: unknown } | null)?.errCode;
  if (typeof errCode === 'number') return errorFromErrcode(errCode, api);
  return new WechatAuthError('wechat_unavailable', `${api}: cloud call failed`, { cause: error });
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
  if (!event || typeof event !== 'object' || Array.isArray(event)) {
    throw new WechatAuthError('bad_request', 'the event must be an object');
  }
  const { userInfo: _platform, ...own } = event as Record<string, unknown>;
  return own;
}

export function initCloud(): void {
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
}

export interface CloudPhoneInfo {
  purePhoneNumber: string;
  countryCode: string;
  watermarkAppid: string;
}

/** phonenumber.getPhoneNumber through the cloud's openapi; a rejection keeps its WeChat errcode. */
export async function getPhoneNumber(code: string): Promise<CloudPhoneInfo> {
  let answer;
  try {
    answer = await cloud.openapi.phonenumber.getPhoneNumber({ code });
  } catch (error) {
    throw fromCloudSdkError(error, 'phonenumber.getPhoneNumber');
  }
  const info = answer.phoneInfo;
  return {
    purePhoneNumber: info.purePhoneNumber,
    countryCode: String(info.countryCode),
    watermarkAppid: info.watermark.appid,
  };
}
