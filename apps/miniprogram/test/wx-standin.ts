/**
 * A `wx` stand-in for Node tests: storage in a Map, wx.login and wx.checkSession scripted or
 * backed by the emulator, wx.request handed to a function (a script, or real HTTP).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DEVTOOLS_MOCK_CODE } from '@wxlogin/wechat-emulator';
import type { WxApi } from '../miniprogram/services/wx-api.js';

export interface StandinResponse {
  statusCode: number;
  data?: unknown;
  header?: Record<string, string>;
}

export type RequestHandler = (request: {
  url: string;
  method: string;
  data: unknown;
  header: Record<string, string>;
}) => Promise<StandinResponse | { fail: string }>;

export class WxStandin implements WxApi {
  readonly storage = new Map<string, unknown>();
  loginCalls = 0;
  checkSessionCalls = 0;
  checkSessionOk = true;
  readonly requests: {
    method: string;
    path: string;
    authorization?: string;
    appid?: string;
  }[] = [];
  /** What wx.getAccountInfoSync() reports; DevTools says touristappid without a real appid. */
  appid = 'touristappid';

  constructor(
    private readonly handler: RequestHandler,
    private readonly mintCode: () => Promise<string> = () =>
      Promise.resolve(`code-${this.loginCalls}`),
  ) {}

  /**
   * wx.login as DevTools does it: under the tourist appid (no real appid) every code is the literal
   * "the code is a mock one", whatever `mintCode` would give; with a real appid, `mintCode`.
   */
  login(option: Parameters<WxApi['login']>[0]): void {
    this.loginCalls += 1;
    const code =
      this.appid === 'touristappid' ? Promise.resolve(DEVTOOLS_MOCK_CODE) : this.mintCode();
    code.then(
      (code) => option.success?.({ code }),
      (error: unknown) => option.fail?.({ errMsg: `login:fail ${String(error)}` }),
    );
  }

  checkSession(option: Parameters<WxApi['checkSession']>[0]): void {
    this.checkSessionCalls += 1;
    setTimeout(() => (this.checkSessionOk ? option.success?.() : option.fail?.()), 0);
  }

  request(option: Parameters<WxApi['request']>[0]): void {
    const header = option.header ?? {};
    const url = new URL(option.url);
    this.requests.push({
      method: option.method ?? 'GET',
      path: url.pathname,
      ...(header.authorization ? { authorization: header.authorization } : {}),
      ...(header['x-wechat-appid'] ? { appid: header['x-wechat-appid'] } : {}),
    });
    this.handler({
      url: option.url,
      method: option.method ?? 'GET',
      data: option.data,
      header,
    }).then(
      (answer) => {
        if ('fail' in answer) option.fail?.({ errMsg: `request:fail ${answer.fail}` });
        else
          option.success?.({
            statusCode: answer.statusCode,
            data: answer.data ?? '',
            header: answer.header ?? {},
          });
      },
      (error: unknown) => option.fail?.({ errMsg: `request:fail ${String(error)}` }),
    );
  }

  getAccountInfoSync(): { miniProgram: { appId: string } } {
    return { miniProgram: { appId: this.appid } };
  }

  /** wx.uploadFile: the "temporary file" is a real file on disk, sent as multipart. */
  uploadFile(option: Parameters<WxApi['uploadFile']>[0]): void {
    this.requests.push({
      method: 'POST',
      path: new URL(option.url).pathname,
      ...(option.header?.authorization ? { authorization: option.header.authorization } : {}),
    });
    (async () => {
      const bytes = await readFile(option.filePath);
      const form = new FormData();
      form.append(option.name, new Blob([bytes], { type: 'image/png' }), basename(option.filePath));
      const response = await fetch(option.url, {
        method: 'POST',
        headers: option.header ?? {},
        body: form,
      });
      return { statusCode: response.status, data: await response.text() };
    })().then(
      (result) => option.success?.(result),
      (error: unknown) => option.fail?.({ errMsg: `uploadFile:fail ${String(error)}` }),
    );
  }

  privacyListener:
    ((resolve: (answer: { event: string; buttonId?: string }) => void) => void) | undefined;
  readonly navigations: string[] = [];

  onNeedPrivacyAuthorization(
    listener: (resolve: (answer: { event: string; buttonId?: string }) => void) => void,
  ): void {
    this.privacyListener = listener;
  }

  navigateTo(option: { url: string }): Promise<void> {
    this.navigations.push(option.url);
    return Promise.resolve();
  }

  /** wx.showModal: the user's answers (confirm or not) in order; what each modal said. */
  readonly modalAnswers: boolean[] = [];
  readonly modals: { title: string; content: string }[] = [];

  showModal(option: {
    title?: string;
    content?: string;
    success?: (result: { confirm: boolean; cancel: boolean }) => void;
  }): void {
    this.modals.push({ title: option.title ?? '', content: option.content ?? '' });
    const confirm = this.modalAnswers.shift() ?? false;
    setTimeout(() => option.success?.({ confirm, cancel: !confirm }), 0);
  }

  /** wx.setClipboardData: what the user could paste now. */
  clipboard = '';

  setClipboardData(option: { data: string; success?: () => void }): void {
    this.clipboard = option.data;
    setTimeout(() => option.success?.(), 0);
  }

  getStorageSync(key: string): unknown {
    return this.storage.has(key) ? this.storage.get(key) : '';
  }

  setStorageSync(key: string, value: unknown): void {
    this.storage.set(key, structuredClone(value));
  }

  removeStorageSync(key: string): void {
    this.storage.delete(key);
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }
}

/** wx.request through real HTTP (what the phone does against the self-hosted server). */
export const realHttp: RequestHandler = async ({ url, method, data, header }) => {
  try {
    const response = await fetch(url, {
      method,
      headers: header,
      ...(data === undefined ? {} : { body: JSON.stringify(data) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // wx.request hands non-JSON bodies over as strings
    }
    return {
      statusCode: response.status,
      data: parsed,
      header: Object.fromEntries(response.headers),
    };
  } catch (error) {
    return { fail: String(error) };
  }
};
