/**
 * A typed client for the emulator's control API, and a launcher that runs the emulator as its own
 * process (the way `npm start` does) for tests in other packages.
 */
import type { MediaCheck } from './content-security.js';
import type { PushDelivery, PushRequest } from './push.js';
import { spawnUntilListening } from '@wxlogin/test-kit';
import { fileURLToPath } from 'node:url';

export interface MintedLoginCodes {
  appid: string;
  openid: string;
  unionid?: string;
  /** The user's session_key on the "phone" after the last wx.login. */
  sessionKey: string;
  codes: string[];
}

export interface EncryptedUserInfo {
  encryptedData: string;
  iv: string;
  rawData: string;
  signature: string;
}

export type FaultSpec =
  | { path: string; kind: 'errcode'; errcode: number; times?: number | 'always' }
  | { path: string; kind: 'http_500' | 'non_json' | 'hang'; times?: number | 'always' };

export class EmulatorControl {
  constructor(readonly url: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/__control${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`emulator control ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  addApp(appid: string, secret: string): Promise<{ appid: string }> {
    return this.call('POST', '/apps', { appid, secret });
  }

  /** wx.login on a phone: `count` fresh codes for one user (a new user when openid is absent). */
  mintLoginCodes(input: {
    appid: string;
    openid?: string;
    unionid?: string;
    count?: number;
    risky?: boolean;
  }): Promise<MintedLoginCodes> {
    return this.call('POST', '/login-codes', input);
  }

  async mintLoginCode(input: {
    appid: string;
    openid?: string;
    unionid?: string;
    risky?: boolean;
  }) {
    const minted = await this.mintLoginCodes({ ...input, count: 1 });
    return { ...minted, code: minted.codes[0] as string };
  }

  mintPhoneCodes(input: {
    appid: string;
    /** The user who taps the button: only their openid redeems the code. */
    openid?: string;
    purePhoneNumber?: string;
    countryCode?: string;
    count?: number;
  }): Promise<{ codes: string[]; purePhoneNumber: string; countryCode: string }> {
    return this.call('POST', '/phone-codes', input);
  }

  encryptedUserInfo(input: {
    appid: string;
    openid: string;
    nickName?: string;
    avatarUrl?: string;
    watermarkAppid?: string;
  }): Promise<EncryptedUserInfo> {
    return this.call('POST', '/encrypted-userinfo', input);
  }

  encryptedPhone(input: {
    appid: string;
    openid: string;
    purePhoneNumber?: string;
    countryCode?: string;
    watermarkAppid?: string;
  }): Promise<{ encryptedData: string; iv: string }> {
    return this.call('POST', '/encrypted-phone', input);
  }

  setOAuthUser(input: {
    appid: string;
    openid?: string;
    unionid?: string;
    nickname?: string;
    headimgurl?: string;
    consent?: 'allow' | 'deny';
  }): Promise<{ openid: string; unionid?: string }> {
    return this.call('PUT', '/oauth-user', input);
  }

  mintOAuthCode(input: {
    appid: string;
    scope: 'snsapi_base' | 'snsapi_userinfo';
  }): Promise<{ code: string; openid: string }> {
    return this.call('POST', '/oauth-codes', input);
  }

  injectFault(fault: FaultSpec): Promise<{ id: number }> {
    return this.call('POST', '/faults', fault);
  }

  clearFaults(): Promise<unknown> {
    return this.call('DELETE', '/faults');
  }

  /** Requests received per WeChat path, faulted ones included. */
  async calls(): Promise<Record<string, number>> {
    return (await this.call<{ calls: Record<string, number> }>('GET', '/calls')).calls;
  }

  async callCount(path: string): Promise<number> {
    return (await this.calls())[path] ?? 0;
  }

  advanceClock(seconds: number): Promise<{ now: string }> {
    return this.call('POST', '/clock', { advanceSeconds: seconds });
  }

  /** The app's message-push configuration (消息推送配置). */
  configurePush(input: {
    appid: string;
    url: string;
    token: string;
    encodingAesKey?: string;
    format?: 'json' | 'xml';
    mode?: 'plain' | 'compat' | 'safe';
  }): Promise<{ ok: true }> {
    return this.call('PUT', '/push-config', input);
  }

  /** Pushes an event to the app's configured URL as WeChat does, retries included. */
  push(input: { appid: string; event: Record<string, unknown> }): Promise<PushDelivery> {
    return this.call('POST', '/push', input);
  }

  /** The request a push would send, without sending it (to tamper with in a test). */
  buildPush(input: { appid: string; event: Record<string, unknown> }): Promise<PushRequest> {
    return this.call('POST', '/push', { ...input, dryRun: true });
  }

  /** Words that make msg_sec_check answer risky or review (pass otherwise). */
  setContentRules(input: { risky?: string[]; review?: string[] }): Promise<{ ok: true }> {
    return this.call('PUT', '/content-rules', input);
  }

  /** Verdicts for the next images media_check_async judges, in order. */
  queueMediaVerdicts(verdicts: ('pass' | 'review' | 'risky')[]): Promise<{ ok: true }> {
    return this.call('POST', '/media-verdicts', { verdicts });
  }

  /** The image checks so far, after each pushed its event. */
  mediaChecks(): Promise<{ checks: MediaCheck[] }> {
    return this.call('GET', '/media-checks');
  }

  reset(): Promise<unknown> {
    return this.call('POST', '/reset');
  }
}

export interface EmulatorProcess {
  url: string;
  control: EmulatorControl;
  pid: number;
  stop(): Promise<void>;
}

// From src/ (tests) and dist/ alike, the compiled CLI is ../dist/cli.js: the real process is run.
const CLI_PATH = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs `wechat-emulator` as a child process on a free port and waits for its "listening on" line. */
export async function startEmulatorProcess(options: {
  apps: readonly { appid: string; secret: string }[];
  port?: number;
  /** Apps in DevTools mode (--devtools-app). */
  devtoolsApps?: readonly string[];
}): Promise<EmulatorProcess> {
  const args = [CLI_PATH, '--port', String(options.port ?? 0)];
  for (const app of options.apps) args.push('--app', `${app.appid}:${app.secret}`);
  for (const appid of options.devtoolsApps ?? []) args.push('--devtools-app', appid);
  // Later lines (DevTools logins) are drained, not kept.
  const child = await spawnUntilListening({
    name: 'wechat-emulator',
    args,
    env: process.env,
    keepOutput: false,
  });
  return {
    url: child.url,
    control: new EmulatorControl(child.url),
    pid: child.pid,
    stop: async () => {
      await child.stop();
    },
  };
}
