/** One emulator process and one server process per test file, and a small HTTP client for them. */
import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { type EmulatorProcess, startEmulatorProcess } from '@wxlogin/wechat-emulator';
import { afterAll, beforeAll, expect } from 'vitest';
import { type ServerProcess, startServerProcess } from './processes.js';

// Test-only credentials the emulator is started with; not a real app.
export const APP = { appid: 'wx0000000000server', secret: 'server-test-secret' } as const;
export const OTHER_APP = { appid: 'wx00000000000other', secret: 'other-test-secret' } as const;
/** An Official Account, for the web login. */
export const OA_APP = { appid: 'wx0000000000000oa1', secret: 'oa-test-secret' } as const;

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

export interface Stack {
  emulator: EmulatorProcess;
  server: ServerProcess;
  dataDir: string;
  api(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      token?: string;
      raw?: string;
      contentType?: string;
      headers?: Record<string, string>;
    },
  ): Promise<ApiAnswer>;
  /** wx.login on the phone, then POST /login (from `appid`, sent as X-WeChat-Appid). */
  login(
    openid?: string,
    options?: { appid?: string; unionid?: string },
  ): Promise<{ token: string; userId: string; openid: string; answer: ApiAnswer }>;
  /**
   * wx.login on the phone, then POST /login to the server at `url` (an extra server, say): the
   * answer whatever it is, its token and session key watched for leaks.
   */
  loginOn(url: string): Promise<{
    status: number;
    body: { token?: string; expiresAt?: string; error?: { code: string } };
    openid: string;
  }>;
  /** POST /avatar as the mini-program uploads it: multipart, one `file` part per entry. */
  uploadAvatar(
    token: string | undefined,
    parts: { bytes: Uint8Array; type: string; name?: string }[],
    url?: string,
  ): Promise<{
    status: number;
    headers: Headers;
    body: { avatarUrl?: string; error?: { code: string; message: string } };
  }>;
  /** Values that must never reach a log (tokens, session keys, phone numbers seen by a test). */
  watchForLeaks(...values: string[]): void;
  /** Starts one more server on its own DATA_DIR against the same emulator. */
  extraServer(env: Record<string, string>): Promise<{ server: ServerProcess; dataDir: string }>;
}

export function serverEnv(emulatorUrl: string, dataDir: string): Record<string, string> {
  return {
    WECHAT_APPID: APP.appid,
    WECHAT_SECRET: APP.secret,
    WECHAT_API_ORIGIN: emulatorUrl,
    WECHAT_OPEN_ORIGIN: emulatorUrl,
    WECHAT_TIMEOUT_MS: '1500',
    DATA_DIR: dataDir,
  };
}

/** Splits text into the runs a secret could appear as (tokens, base64, digits); `.`, `=` and
 * punctuation separate them, so a value leaked inside a URL or JSON string is still found. */
const words = (text: string) => text.split(/[^A-Za-z0-9_+/-]+/).filter((word) => word.length >= 8);

/** The watched values with a part of 8+ characters that appears as a word of the logs. */
export function findLeaks(logs: string, watched: Iterable<string>): string[] {
  const logWords = new Set(words(logs));
  return [...watched].filter((value) => words(value).some((part) => logWords.has(part)));
}

/** `env` adds to (or overrides) the server's variables, e.g. WECHAT_APPS. */
export function useStack(options: { env?: Record<string, string> } = {}): Stack {
  const state: {
    emulator?: EmulatorProcess;
    server?: ServerProcess;
    dirs: TempDir[];
    servers: ServerProcess[];
    watched: Set<string>;
  } = { dirs: [], servers: [], watched: new Set() };
  const freshDir = async () => {
    const dir = await tempDir('server');
    state.dirs.push(dir);
    return dir.path;
  };
  beforeAll(async () => {
    state.emulator = await startEmulatorProcess({ apps: [APP, OTHER_APP, OA_APP] });
    const dataDir = await freshDir();
    state.server = await startServerProcess({
      ...serverEnv(state.emulator.url, dataDir),
      ...options.env,
    });
    state.servers.push(state.server);
  });
  afterAll(async () => {
    for (const server of state.servers) await server.stop();
    // Whatever a test did, no log line may carry a credential or a phone number it handled,
    // nor the app secret or the access token the server used.
    if (state.emulator) {
      const current = await fetch(`${state.emulator.url}/cgi-bin/stable_token`, {
        method: 'POST',
        body: JSON.stringify({
          grant_type: 'client_credential',
          appid: APP.appid,
          secret: APP.secret,
        }),
      });
      state.watched.add(((await current.json()) as { access_token: string }).access_token);
    }
    state.watched.add(APP.secret);
    state.watched.add(OTHER_APP.secret);
    state.watched.add(OA_APP.secret);
    const leaked = findLeaks(
      state.servers.map((server) => server.output()).join('\n'),
      state.watched,
    );
    await state.emulator?.stop();
    await Promise.all(state.dirs.map((dir) => dir.remove()));
    expect(leaked, 'secrets found in the server logs').toEqual([]);
  }, 60_000);
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} not started`);
    return value;
  };
  const stack: Stack = {
    get emulator() {
      return need(state.emulator, 'emulator');
    },
    get server() {
      return need(state.server, 'server');
    },
    get dataDir() {
      return need(state.dirs[0], 'data dir').path;
    },
    async api(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.raw !== undefined || options.body !== undefined) {
        headers['content-type'] = options.contentType ?? 'application/json';
        body = options.raw ?? JSON.stringify(options.body);
      }
      const response = await fetch(`${stack.server.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: text ? (JSON.parse(text) as ApiAnswer['body']) : {},
      };
    },
    async login(openid, options = {}) {
      const appid = options.appid ?? APP.appid;
      const minted = await stack.emulator.control.mintLoginCode({
        appid,
        ...(openid ? { openid } : {}),
        ...(options.unionid ? { unionid: options.unionid } : {}),
      });
      const answer = await stack.api('POST', '/login', {
        body: { code: minted.code },
        ...(options.appid ? { headers: { 'x-wechat-appid': options.appid } } : {}),
      });
      if (answer.status !== 200)
        throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.body)}`);
      const user = answer.body.user as { id: string };
      stack.watchForLeaks(answer.body.token as string, minted.sessionKey);
      return { token: answer.body.token as string, userId: user.id, openid: minted.openid, answer };
    },
    async loginOn(url) {
      const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
      const response = await fetch(`${url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: minted.code }),
      });
      const body = (await response.json()) as Awaited<ReturnType<Stack['loginOn']>>['body'];
      if (body.token) stack.watchForLeaks(body.token, minted.sessionKey);
      return { status: response.status, body, openid: minted.openid };
    },
    async uploadAvatar(token, parts, url = stack.server.url) {
      const form = new FormData();
      for (const part of parts)
        form.append('file', new Blob([part.bytes], { type: part.type }), part.name ?? 'tmp.png');
      const response = await fetch(`${url}/avatar`, {
        method: 'POST',
        headers: token ? { authorization: `Bearer ${token}` } : {},
        body: form,
      });
      return {
        status: response.status,
        headers: response.headers,
        body: (await response.json()) as Awaited<ReturnType<Stack['uploadAvatar']>>['body'],
      };
    },
    watchForLeaks(...values) {
      for (const value of values) state.watched.add(value);
    },
    async extraServer(env) {
      const dataDir = await freshDir();
      const server = await startServerProcess({
        ...serverEnv(stack.emulator.url, dataDir),
        ...env,
      });
      state.servers.push(server);
      return { server, dataDir };
    },
  };
  return stack;
}
