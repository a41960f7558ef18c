/**
 * The part of wx-server-sdk (4.x) the functions use, typed after its index.d.ts and source.
 * The SDK is not installed in the workspace: the cloud installs it from the built package.json,
 * and tests load the built bundle next to a stand-in (requiring the real SDK outside the cloud
 * and calling openapi leaves an unhandled rejection that kills Node).
 */
declare module 'wx-server-sdk' {
  /** getWXContext(): the keys of WX_CONTEXT_KEYS with their WX_ prefix removed, plus ENV/SOURCE. */
  export interface WXContext {
    OPENID?: string;
    APPID?: string;
    UNIONID?: string;
    ENV?: string;
    SOURCE?: string;
    [key: string]: unknown;
  }

  export interface PhoneInfo {
    phoneNumber: string;
    purePhoneNumber: string;
    countryCode: string | number;
    watermark: { appid: string; timestamp: number };
  }

  /** openapi calls resolve camelCased WeChat answers and reject with { errCode, errMsg }. */
  export interface OpenApi {
    phonenumber: {
      getPhoneNumber(param: {
        code: string;
        openid?: string;
      }): Promise<{ errCode: number; errMsg: string; phoneInfo: PhoneInfo }>;
    };
  }

  export const DYNAMIC_CURRENT_ENV: symbol;
  export function init(config?: { env?: string | symbol; traceUser?: boolean }): void;
  export function getWXContext(): WXContext;
  export const openapi: OpenApi;
}
