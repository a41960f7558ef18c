/**
 * App access tokens: stable_token (renewal window, force refresh limits) and the older
 * /cgi-bin/token (each call supersedes the previous token after a grace period).
 */
import { randomBytes } from 'node:crypto';

export const ACCESS_TOKEN_TTL_MS = 7200_000;
/** stable_token: "在有效期倒计时 5 分钟内发起调用会获取新的 access_token", old and new overlap. */
export const STABLE_RENEW_WINDOW_MS = 5 * 60_000;
/** /cgi-bin/token: a superseded token stays usable for 5 minutes. */
export const LEGACY_TOKEN_GRACE_MS = 5 * 60_000;
export const FORCE_REFRESH_MIN_INTERVAL_MS = 30_000;
export const FORCE_REFRESH_DAILY_LIMIT = 20;

export interface AccessTokenRecord {
  appid: string;
  /** Usable until this instant (expiry, or end of grace once superseded). */
  validUntil: number;
  /** Revoked by a force refresh: answers 40001 at once. */
  revoked: boolean;
}

export interface StableSlot {
  token: string;
  expiresAt: number;
  lastForceAt: number;
  forceDay: string;
  forceCount: number;
}

export class AccessTokens {
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly stable = new Map<string, StableSlot>();
  private readonly legacy = new Map<string, string>();

  constructor(private readonly now: () => number) {}

  /** 0 when usable, 40001 for an unknown, superseded or revoked token, 42001 once expired. */
  checkAccessToken(token: string | undefined): { errcode: number; appid?: string } {
    const record = token ? this.accessTokens.get(token) : undefined;
    if (!record || record.revoked) return { errcode: 40001 };
    if (this.now() >= record.validUntil) return { errcode: 42001 };
    return { errcode: 0, appid: record.appid };
  }

  private issueToken(appid: string, ttlMs: number): string {
    const token = `${randomBytes(48).toString('base64url')}`;
    this.accessTokens.set(token, { appid, validUntil: this.now() + ttlMs, revoked: false });
    return token;
  }

  /**
   * stable_token. Normal mode returns the current token until 5 minutes before its expiry, then a new
   * one while the old stays valid to its end. Force mode revokes the current token, at most once per
   * 30 s (a call inside that window just returns the current token) and 20 times a day (45009).
   */
  stableToken(
    appid: string,
    forceRefresh: boolean,
  ): { access_token: string; expires_in: number } | { errcode: number } {
    const now = this.now();
    const slot = this.stable.get(appid);
    const fresh = (): StableSlot => {
      const token = this.issueToken(appid, ACCESS_TOKEN_TTL_MS);
      const next: StableSlot = {
        token,
        expiresAt: now + ACCESS_TOKEN_TTL_MS,
        lastForceAt: slot?.lastForceAt ?? 0,
        forceDay: slot?.forceDay ?? '',
        forceCount: slot?.forceCount ?? 0,
      };
      this.stable.set(appid, next);
      return next;
    };
    let current: StableSlot;
    if (forceRefresh) {
      const day = new Date(now).toISOString().slice(0, 10);
      const used = slot && slot.forceDay === day ? slot.forceCount : 0;
      if (used >= FORCE_REFRESH_DAILY_LIMIT) {
        return { errcode: 45009 };
      }
      if (slot && now - slot.lastForceAt < FORCE_REFRESH_MIN_INTERVAL_MS && now < slot.expiresAt) {
        current = slot;
      } else {
        if (slot) {
          const old = this.accessTokens.get(slot.token);
          if (old) old.revoked = true;
        }
        current = fresh();
        current.lastForceAt = now;
        current.forceDay = day;
        current.forceCount = used + 1;
      }
    } else if (!slot || now >= slot.expiresAt - STABLE_RENEW_WINDOW_MS) {
      current = fresh();
    } else {
      current = slot;
    }
    return {
      access_token: current.token,
      expires_in: Math.floor((current.expiresAt - now) / 1000),
    };
  }

  /** /cgi-bin/token: every call issues a new token; the previous one lives 5 more minutes. */
  legacyToken(appid: string): { access_token: string; expires_in: number } {
    const previous = this.legacy.get(appid);
    if (previous) {
      const record = this.accessTokens.get(previous);
      if (record)
        record.validUntil = Math.min(record.validUntil, this.now() + LEGACY_TOKEN_GRACE_MS);
    }
    const token = this.issueToken(appid, ACCESS_TOKEN_TTL_MS);
    this.legacy.set(appid, token);
    return { access_token: token, expires_in: ACCESS_TOKEN_TTL_MS / 1000 };
  }
}
