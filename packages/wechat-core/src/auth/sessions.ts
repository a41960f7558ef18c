/**
 * Sessions over the token scheme of crypto/session-token.ts. A check is one lookup by primary key;
 * the expiry slides (a session used in the last half of its life is extended), so an active user
 * stays logged in and an idle one expires. Logout deletes the record.
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
  /** Session lifetime; DESIGN default 30 days. */
  ttlMs: number;
  now?: () => Date;
}

function unauthorized(): WechatAuthError {
  // One message for every cause, so a caller learns nothing about which part was wrong.
  return new WechatAuthError('unauthorized', 'missing, invalid or expired session token');
}

export class SessionManager {
  private readonly now: () => Date;

  constructor(private readonly options: SessionManagerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The session lifetime (sliding). */
  get ttlMs(): number {
    return this.options.ttlMs;
  }

  async issue(userId: string, appid: string): Promise<IssuedSession> {
    const { token, id, secretHash } = createSessionToken();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.options.ttlMs);
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

  /** The session behind a bearer token; unauthorized for anything else. */
  async verify(token: string | undefined): Promise<SessionContext> {
    const parts = token ? parseSessionToken(token) : undefined;
    if (!parts) throw unauthorized();
    const now = this.now();
    const session = await this.options.store.findActive(parts.id, now);
    if (!session || !secretMatches(parts.secret, session.secretHash)) throw unauthorized();
    const remaining = session.expiresAt.getTime() - now.getTime();
    if (remaining < this.options.ttlMs / 2) {
      await this.options.store.extend(
        session.id,
        new Date(now.getTime() + this.options.ttlMs),
        now,
      );
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
