/**
 * Sessions over the token scheme of crypto/session-token.ts. A check is one lookup by primary key;
 * the expiry slides (a session used in the last half of its life is extended), so an active user
 * stays logged in and an idle one expires, but never beyond `maxAgeMs` after it was issued (an
 * absolute lifetime: a stolen token in constant use still dies). Logout deletes the record.
 *
 * A session belongs to the app it was issued for (a mini-program's appid, or the Official
 * Account's for the web login): `verify` is told which app the request speaks for and refuses a
 * session of any other, so a token of app A does not answer for app B, and a web-login cookie's
 * token is no Bearer token for the mini-program API.
 */
import { WechatAuthError } from '../errors.js';
import { createSessionToken, parseSessionToken, secretMatches } from '../crypto/session-token.js';
import type { SessionRepository } from '../store/types.js';

/** Who is calling: a user in one app (from a session, or vouched for by the cloud runtime). */
export interface CallerContext {
  userId: string;
  appid: string;
}

/** A caller whose bearer token checked out. */
export interface SessionContext extends CallerContext {
  sessionId: string;
}

export interface IssuedSession {
  token: string;
  expiresAt: Date;
  session: SessionContext;
}

export interface SessionManagerOptions {
  store: SessionRepository;
  /** Session lifetime (sliding); DESIGN default 30 days. */
  ttlMs: number;
  /** Absolute lifetime from issue, however often the session is used; default 90 days. */
  maxAgeMs?: number;
  now?: () => Date;
}

function unauthorized(): WechatAuthError {
  // One message for every cause, so a caller learns nothing about which part was wrong.
  return new WechatAuthError('unauthorized', 'missing, invalid or expired session token');
}

export const DEFAULT_SESSION_MAX_AGE_MS = 90 * 24 * 3600_000;

/** How fresh a session's "last seen" (lastVerifiedAt) is kept. */
export const LAST_SEEN_RESOLUTION_MS = 3600_000;

export class SessionManager {
  private readonly now: () => Date;
  private readonly maxAgeMs: number;

  constructor(private readonly options: SessionManagerOptions) {
    this.now = options.now ?? (() => new Date());
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_SESSION_MAX_AGE_MS;
  }

  /** The expiry of a session issued at `createdAt`, used at `now`: sliding, capped by the max age. */
  private expiryAt(createdAt: Date, now: Date): Date {
    return new Date(
      Math.min(now.getTime() + this.options.ttlMs, createdAt.getTime() + this.maxAgeMs),
    );
  }

  /** The session lifetime (sliding). */
  get ttlMs(): number {
    return this.options.ttlMs;
  }

  async issue(userId: string, appid: string): Promise<IssuedSession> {
    const { token, id, secretHash } = createSessionToken();
    const now = this.now();
    const expiresAt = this.expiryAt(now, now);
    await this.options.store.insert({
      id,
      secretHash,
      userId,
      appid,
      createdAt: now,
      expiresAt,
      lastVerifiedAt: now,
    });
    return { token, expiresAt, session: { sessionId: id, userId, appid } };
  }

  /**
   * The session behind a token, issued for `appid` (the app the request speaks for);
   * unauthorized for anything else. Without `appid` any app's session is accepted: only for
   * ending a session (logout).
   */
  async verify(token: string | undefined, appid?: string): Promise<SessionContext> {
    const parts = token ? parseSessionToken(token) : undefined;
    if (!parts) throw unauthorized();
    const now = this.now();
    const session = await this.options.store.findActive(parts.id, now);
    if (!session || !secretMatches(parts.secret, session.secretHash)) throw unauthorized();
    if (appid !== undefined && session.appid !== appid) throw unauthorized();
    // Sessions stored before the absolute lifetime existed may carry a later expiry: cut here.
    const hardEnd = session.createdAt.getTime() + this.maxAgeMs;
    if (now.getTime() >= hardEnd) throw unauthorized();
    const remaining = session.expiresAt.getTime() - now.getTime();
    if (remaining < this.options.ttlMs / 2 && session.expiresAt.getTime() < hardEnd) {
      await this.options.store.extend(session.id, this.expiryAt(session.createdAt, now), now);
    } else if (now.getTime() - session.lastVerifiedAt.getTime() >= LAST_SEEN_RESOLUTION_MS) {
      // "Last seen" on the user's device list, to the hour: one write per session per hour.
      await this.options.store.extend(session.id, session.expiresAt, now);
    }
    return { sessionId: session.id, userId: session.userId, appid: session.appid };
  }

  /** Ends the session of this token (checked first, so a forged token cannot log anyone out). */
  async revoke(token: string | undefined): Promise<void> {
    const session = await this.verify(token);
    await this.options.store.delete(session.sessionId);
  }

  revokeAllOfUser(userId: string): Promise<number> {
    return this.options.store.deleteAllOfUser(userId);
  }
}
