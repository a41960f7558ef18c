/**
 * StableTokenBroker: hands out the app-wide access token (stable_token, normal mode).
 *
 * - Cached with its expiry as a duration (our clock at receipt + expires_in) and refreshed ahead of
 *   expiry. WeChat's normal mode issues a new token only in the last 5 minutes, so refreshing
 *   earlier would just return the same token: refreshAt = expiry - 5 min.
 * - One refresh in flight per appid in this process (a shared promise) and across processes (a
 *   lease in the store): 200 concurrent callers or 4 instances cause one upstream fetch.
 * - On 40001/40014/42001 for a call made with the token: one more normal-mode fetch and one retry.
 *   Never a loop, never an automatic force_refresh (that revokes the token every other instance
 *   is using, and WeChat allows it 20 times a day).
 * @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppRegistry } from '../apps.js';
import { WechatAuthError } from '../errors.js';
import { randomBase64Url } from '../crypto/random.js';
import type { AccessTokenRepository, CachedAccessToken } from '../store/types.js';
import type { WechatClient } from './client.js';
import { ACCESS_TOKEN_ERRCODES } from './errcodes.js';

export interface StableTokenBrokerOptions {
  client: WechatClient;
  apps: AppRegistry;
  store: AccessTokenRepository;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** How long one instance may hold the refresh lease. Default 10 s. */
  leaseMs?: number;
  /** How often a waiting instance looks for the holder's token. Default 25 ms. */
  pollIntervalMs?: number;
}

/** WeChat renews a stable token only in its last 5 minutes. */
const RENEW_WINDOW_MS = 5 * 60_000;

interface Rejection {
  token: string;
  at: number;
}

export class StableTokenBroker {
  private readonly memory = new Map<string, CachedAccessToken>();
  private readonly inflight = new Map<string, Promise<CachedAccessToken>>();
  private readonly holder = randomBase64Url(12);
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;

  constructor(private readonly options: StableTokenBrokerOptions) {
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 25;
  }

  /** A usable access token for the app. */
  async getToken(appid: string): Promise<string> {
    const cached = this.memory.get(appid);
    const now = this.now();
    if (cached && now < cached.refreshAt.getTime()) return cached.accessToken;
    try {
      return (await this.singleFlight(appid, undefined)).accessToken;
    } catch (error) {
      // Refreshing ahead failed, but the token we have still works: keep serving it.
      if (cached && this.now() < cached.expiresAt.getTime()) return cached.accessToken;
      throw error;
    }
  }

  /**
   * Runs a WeChat call with the app's token. If WeChat says the token is stale, fetches once more
   * in normal mode and retries the call once.
   */
  async call<T>(appid: string, operation: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.getToken(appid);
    try {
      return await operation(token);
    } catch (error) {
      if (!isTokenRejection(error)) throw error;
      const rejection = { token, at: this.now() };
      if (this.memory.get(appid)?.accessToken === token) this.memory.delete(appid);
      const next = await this.singleFlight(appid, rejection);
      return operation(next.accessToken);
    }
  }

  private singleFlight(
    appid: string,
    rejection: Rejection | undefined,
  ): Promise<CachedAccessToken> {
    // Callers that saw the same token rejected share one refetch; plain refreshes share another.
    const key = rejection ? `${appid}\u0000${rejection.token}` : appid;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.refresh(appid, rejection).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** A stored token is good if not due for refresh and not the one WeChat just rejected. */
  private usable(
    stored: CachedAccessToken | null,
    rejection: Rejection | undefined,
  ): stored is CachedAccessToken {
    if (!stored || this.now() >= stored.refreshAt.getTime()) return false;
    if (!rejection || stored.accessToken !== rejection.token) return true;
    return stored.obtainedAt.getTime() >= rejection.at;
  }

  private async refresh(
    appid: string,
    rejection: Rejection | undefined,
  ): Promise<CachedAccessToken> {
    const { store } = this.options;
    const app = this.options.apps.get(appid);
    const giveUpAt = this.now() + this.leaseMs * 2;
    for (;;) {
      const stored = await store.get(appid);
      if (this.usable(stored, rejection)) return this.remember(stored);
      const now = this.now();
      if (
        await store.acquireLease(appid, this.holder, new Date(now + this.leaseMs), new Date(now))
      ) {
        try {
          // Another instance may have saved a token between our read and our lease.
          const again = await store.get(appid);
          if (this.usable(again, rejection)) {
            await store.releaseLease(appid, this.holder);
            return this.remember(again);
          }
          const fetched = await this.options.client.fetchStableToken(app, false);
          const obtainedAt = this.now();
          const lifeMs = fetched.expiresInSeconds * 1000;
          const token: CachedAccessToken = {
            appid,
            accessToken: fetched.accessToken,
            obtainedAt: new Date(obtainedAt),
            expiresAt: new Date(obtainedAt + lifeMs),
            // Never earlier than half its life, so a short-lived answer cannot cause a refresh storm.
            refreshAt: new Date(obtainedAt + Math.max(lifeMs - RENEW_WINDOW_MS, lifeMs / 2)),
          };
          await store.save(token, this.holder);
          return this.remember(token);
        } catch (error) {
          await store.releaseLease(appid, this.holder).catch(() => undefined);
          throw error;
        }
      }
      if (this.now() >= giveUpAt) {
        throw new WechatAuthError(
          'wechat_unavailable',
          'another instance is refreshing the access token and has not finished',
        );
      }
      await sleep(this.pollIntervalMs);
    }
  }

  private remember(token: CachedAccessToken): CachedAccessToken {
    this.memory.set(token.appid, token);
    return token;
  }
}

function isTokenRejection(error: unknown): boolean {
  return (
    error instanceof WechatAuthError &&
    error.wechatErrcode !== undefined &&
    ACCESS_TOKEN_ERRCODES.has(error.wechatErrcode)
  );
}
