/**
 * Limits on what an outsider can make this server spend: WeChat calls (code2Session for anyone,
 * the billed phone verification), disk (avatars) and CPU (image decoding).
 *
 * - Per user (`/phone`, `/avatar`, `/userinfo`, the account operations under `/me`): a fixed
 *   window per user id, counted after the
 *   session checked out, so a token can spend only its own budget.
 * - Per client address (`POST /login` and the web login's callback, both anonymous and both
 *   spending a code exchange): a fixed window per address (an IPv6 client per /64). Behind a
 *   proxy the address is taken from X-Forwarded-For only when the peer is a configured trusted
 *   proxy (TRUST_PROXY); otherwise the peer address itself counts and the header is ignored.
 * - Concurrency (`POST /login`): at most `loginConcurrency` code exchanges run at once, at most
 *   `loginQueue` more wait (each at most 10 s, and never run once its client left); beyond that a
 *   login is refused at once instead of piling up.
 *
 * Counters live in this process (@fastify/rate-limit's in-memory store): a limit is per instance,
 * so N instances allow N times the budget. That is deliberate: the limits are a brake on abuse,
 * not a quota, and keeping them out of the store means a flood of refused requests costs no
 * database write and still works while the database is down. Every refusal is 429 rate_limited
 * with Retry-After (seconds until the window resets).
 */
import rateLimit from '@fastify/rate-limit';
import { WechatAuthError } from '@wxlogin/wechat-core';
import type { FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify';

export interface LimitSettings {
  /** Logins per client address per minute; 0: no limit. */
  loginPerMinute: number;
  /** Code exchanges in flight at once. */
  loginConcurrency: number;
  /** Logins waiting for a slot before further ones are refused. */
  loginQueue: number;
  /** Per user per hour; 0: no limit. */
  phonePerHour: number;
  avatarPerHour: number;
  userinfoPerHour: number;
  /** Each account operation (export, delete, cancel, end a session, consent) per user per hour. */
  accountPerHour: number;
}

export const DEFAULT_LIMITS: LimitSettings = {
  loginPerMinute: 300,
  loginConcurrency: 64,
  loginQueue: 256,
  phonePerHour: 10,
  avatarPerHour: 20,
  userinfoPerHour: 60,
  accountPerHour: 30,
};

/** How long a client may take, and how many may be connected (slowloris, fd exhaustion). */
export interface ConnectionSettings {
  /** The request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** A connection with nothing happening on it (also keep-alive between requests) is closed. */
  idleTimeoutMs: number;
  /** Connections beyond this are closed at once (keep it below the process's file limit). */
  maxConnections: number;
}

export const DEFAULT_CONNECTIONS: ConnectionSettings = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 72_000,
  maxConnections: 1_000,
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Registers the plugin at the root (no limit anywhere until a route asks for one). Routes must be
 * declared after it has loaded (inside a later `register`), or its onRoute hook misses them.
 */
export function registerLimits(app: FastifyInstance): void {
  void app.register(rateLimit, {
    global: false,
    // Counters kept per route (least recently used dropped beyond): room for this many active
    // users or addresses in one window, so an idle abuser's count is not forgotten early.
    cache: 100_000,
    // No headers of its own: the x-ratelimit-* ones would tell a scraper the exact budget, and
    // Retry-After is set where every rate_limited answer gets it (app.ts, the error handler,
    // from retryAfterSeconds below).
    addHeaders: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
      'retry-after': false,
    },
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new WechatAuthError('rate_limited', `too many requests; retry in ${seconds} s`, {
        retryAfterSeconds: seconds,
      });
    },
  });
}

/** Route options limiting `max` requests per `windowMs` per key; none when max is 0. */
export function limitPer(
  max: number,
  windowMs: number,
  keyGenerator?: (request: FastifyRequest) => Promise<string> | string,
): RouteShorthandOptions {
  if (max === 0) return {};
  return {
    config: {
      rateLimit: {
        max,
        timeWindow: windowMs,
        // Before the body is read: a refused upload is never parsed.
        hook: 'onRequest',
        ...(keyGenerator ? { keyGenerator } : {}),
      },
    },
  };
}

export const perMinute = (max: number) => limitPer(max, MINUTE);
export const perHour = (
  max: number,
  keyGenerator: (request: FastifyRequest) => Promise<string> | string,
) => limitPer(max, HOUR, keyGenerator);

/**
 * At most `concurrency` tasks at once and `queue` waiting, each for at most `maxWaitMs`; a task
 * beyond the queue, or whose wait ran out, is refused with rate_limited (Retry-After 1) without
 * running, and so is one whose client left while it waited (`gone`).
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: ((admitted: boolean) => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
    private readonly maxWaitMs = 10_000,
  ) {}

  async run<T>(task: () => Promise<T>, gone: () => boolean = () => false): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw busy();
      await this.wait();
      if (gone()) {
        this.release();
        throw busy();
      }
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Resolves once a finishing task hands over its slot; rejects when the wait runs out. */
  private wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const turn = (admitted: boolean) => {
        clearTimeout(timer);
        if (admitted) resolve();
        else reject(busy());
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(turn);
        if (index >= 0) this.waiting.splice(index, 1);
        turn(false);
      }, this.maxWaitMs);
      this.waiting.push(turn);
    });
  }

  /** Hands the slot straight to the next waiter (running stays the same), or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.running -= 1;
  }
}

function busy(): WechatAuthError {
  return new WechatAuthError('rate_limited', 'too busy right now; retry in a second', {
    retryAfterSeconds: 1,
  });
}
