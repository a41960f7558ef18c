/**
 * How every call to WeChat is made: one deadline per call, bounded retries with exponential
 * backoff for "system busy" (-1) and connection failures, the body read as UTF-8 JSON whatever
 * the content-type, and errors that never carry a URL (URLs hold the appid, secret and tokens).
 */
import { WechatAuthError } from '../errors.js';
import { SYSTEM_BUSY, errorFromErrcode } from './errcodes.js';

export interface WechatHttpOptions {
  /** Default https://api.weixin.qq.com; the emulator's origin in tests and local runs. */
  apiOrigin?: string;
  /** Default https://open.weixin.qq.com (OAuth authorize page). */
  openOrigin?: string;
  /** Deadline for one call, retries included. Default 5000 ms. */
  timeoutMs?: number;
  /** Retries after the first attempt, for -1 and connection failures. Default 2. */
  maxRetries?: number;
  /** First backoff delay; doubles each retry. Default 100 ms. */
  retryBaseDelayMs?: number;
  /** Injected for tests that need a fetch of their own; the global fetch otherwise. */
  fetch?: typeof fetch;
}

const DEFAULT_API_ORIGIN = 'https://api.weixin.qq.com';
const DEFAULT_OPEN_ORIGIN = 'https://open.weixin.qq.com';

export interface WechatRequest {
  /** The path, also used to name the endpoint in errors: "/sns/jscode2session". */
  path: string;
  method: 'GET' | 'POST';
  query?: Record<string, string>;
  body?: unknown;
}

export type WechatAnswer = Record<string, unknown>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class WechatHttp {
  readonly apiOrigin: string;
  readonly openOrigin: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: WechatHttpOptions = {}) {
    this.apiOrigin = trimOrigin(options.apiOrigin ?? DEFAULT_API_ORIGIN);
    this.openOrigin = trimOrigin(options.openOrigin ?? DEFAULT_OPEN_ORIGIN);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxRetries = options.maxRetries ?? 2;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 100;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * Calls WeChat and returns the JSON answer when errcode is absent or 0.
   * Retries only what cannot have been acted upon: -1 and failures to connect. An answered
   * call is never repeated, so a single-use code is never spent twice.
   */
  async call(request: WechatRequest): Promise<WechatAnswer> {
    const deadline = Date.now() + this.timeoutMs;
    // A timer cleared when the call ends: AbortSignal.timeout() would keep one pending per call
    // for the whole timeout, long after the answer arrived.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const signal = controller.signal;
    try {
      for (let attempt = 0; ; attempt += 1) {
        let failure: WechatAuthError;
        try {
          const answer = await this.once(request, signal);
          const errcode = answer.errcode;
          if (errcode === undefined || errcode === 0) return answer;
          if (typeof errcode !== 'number') {
            throw new WechatAuthError(
              'wechat_unavailable',
              `${request.path}: errcode is not a number`,
            );
          }
          failure = errorFromErrcode(errcode, request.path);
          if (errcode !== SYSTEM_BUSY) throw failure;
        } catch (error) {
          if (!(error instanceof RetryableFailure)) throw error;
          failure = error.failure;
        }
        const delay = this.retryBaseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
        if (attempt >= this.maxRetries || Date.now() + delay >= deadline) throw failure;
        await sleep(delay);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async once(request: WechatRequest, signal: AbortSignal): Promise<WechatAnswer> {
    const url = new URL(request.path, this.apiOrigin);
    for (const [key, value] of Object.entries(request.query ?? {}))
      url.searchParams.set(key, value);
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: request.method,
        signal,
        headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
        body: request.body === undefined ? null : JSON.stringify(request.body),
      });
    } catch (error) {
      throw transportFailure(error, request.path, signal);
    }
    let bytes: ArrayBuffer;
    try {
      bytes = await response.arrayBuffer();
    } catch (error) {
      // The connection dropped mid-answer: WeChat may have acted, so this is not retried.
      const mapped = transportFailure(error, request.path, signal);
      throw mapped instanceof RetryableFailure ? mapped.failure : mapped;
    }
    if (response.status >= 500) {
      throw new WechatAuthError('wechat_unavailable', `${request.path}: HTTP ${response.status}`);
    }
    // WeChat labels JSON as text/plain (and sometimes without charset): always decode UTF-8.
    const text = new TextDecoder('utf-8').decode(bytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new WechatAuthError(
        'wechat_unavailable',
        `${request.path}: unreadable answer (HTTP ${response.status}, not JSON)`,
      );
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new WechatAuthError(
        'wechat_unavailable',
        `${request.path}: answer is not a JSON object`,
      );
    }
    return parsed as WechatAnswer;
  }
}

/** A failure worth another attempt; carries what to throw if none is left. */
class RetryableFailure extends Error {
  constructor(readonly failure: WechatAuthError) {
    super(failure.message);
  }
}

function transportFailure(
  error: unknown,
  path: string,
  signal: AbortSignal,
): WechatAuthError | RetryableFailure {
  if (signal.aborted) {
    return new WechatAuthError('wechat_timeout', `${path}: WeChat did not answer in time`);
  }
  // undici wraps the system error: keep its code (ECONNREFUSED...) but not the URL.
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : 'network error';
  return new RetryableFailure(
    new WechatAuthError('wechat_unavailable', `${path}: cannot reach WeChat (${code})`),
  );
}

function trimOrigin(origin: string): string {
  return origin.replace(/\/+$/, '');
}
