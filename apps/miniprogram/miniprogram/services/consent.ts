/**
 * The privacy-guideline agreement, reported to the backend (kept per user, exported, deleted with
 * the account). WeChat does not number its guideline versions: bump PRIVACY_GUIDE_VERSION when
 * you change your 用户隐私保护指引 in the admin console. A report that cannot be sent now (offline,
 * not logged in yet) waits in storage and is sent after the next login.
 */
import type { AuthService } from './auth.js';
import { isClientError } from './errors.js';
import type { WxApi } from './wx-api.js';

export const PRIVACY_GUIDE_VERSION = '2026-11-01';
export const CONSENT_STORAGE_KEY = 'wxlogin.consent.pending';

interface PendingConsent {
  version: string;
  agreedAt: string;
}

export class ConsentReporter {
  constructor(
    private readonly wx: Pick<WxApi, 'getStorageSync' | 'setStorageSync' | 'removeStorageSync'>,
    private readonly auth: Pick<AuthService, 'request'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user tapped agree: remembered at once, sent when possible. */
  agreed(): Promise<void> {
    const pending: PendingConsent = {
      version: PRIVACY_GUIDE_VERSION,
      agreedAt: new Date(this.now()).toISOString(),
    };
    this.wx.setStorageSync(CONSENT_STORAGE_KEY, pending);
    return this.flush();
  }

  /** Sends a remembered agreement; kept for the next try when that fails. */
  async flush(): Promise<void> {
    const pending = this.wx.getStorageSync(CONSENT_STORAGE_KEY) as PendingConsent | '' | undefined;
    if (!pending || typeof pending.version !== 'string' || typeof pending.agreedAt !== 'string')
      return;
    try {
      await this.auth.request('consent', {
        kind: 'privacy',
        version: pending.version,
        agreedAt: pending.agreedAt,
      });
      this.wx.removeStorageSync(CONSENT_STORAGE_KEY);
    } catch (error) {
      // Refused for good (a report older than the server keeps, say): do not retry forever.
      if (isClientError(error, 'bad_request')) this.wx.removeStorageSync(CONSENT_STORAGE_KEY);
    }
  }
}
