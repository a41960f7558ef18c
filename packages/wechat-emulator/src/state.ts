/**
 * The emulator's memory: apps, users, codes, tokens, faults and call counters.
 * Everything WeChat would remember lives here; the route files only translate HTTP.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ContentChecks } from './content-security.js';
import { MessagePush } from './push.js';

export const LOGIN_CODE_TTL_MS = 5 * 60_000;
export const PHONE_CODE_TTL_MS = 5 * 60_000;
export const OAUTH_CODE_TTL_MS = 5 * 60_000;
export const ACCESS_TOKEN_TTL_MS = 7200_000;
/** stable_token: "在有效期倒计时 5 分钟内发起调用会获取新的 access_token", old and new overlap. */
export const STABLE_RENEW_WINDOW_MS = 5 * 60_000;
/** /cgi-bin/token: a superseded token stays usable for 5 minutes. */
export const LEGACY_TOKEN_GRACE_MS = 5 * 60_000;
export const FORCE_REFRESH_MIN_INTERVAL_MS = 30_000;
export const FORCE_REFRESH_DAILY_LIMIT = 20;
export const LOGIN_RATE_LIMIT_PER_MINUTE = 100;
export const OAUTH_REFRESH_TTL_MS = 30 * 24 * 3600_000;

export interface AppRecord {
  appid: string;
  secret: string;
}

export interface MiniProgramUser {
  appid: string;
  openid: string;
  unionid: string | undefined;
  /** The key WeChat holds now; rotates every time the client calls wx.login. */
  sessionKey: string;
  /** Timestamps of code exchanges in the last minute, for the 100/minute limit. */
  recentExchanges: number[];
  /** When the user last opened the mini-program (wx.login): content checks need the last 2 h. */
  lastVisitAt: number;
}

interface LoginCode {
  appid: string;
  openid: string;
  sessionKey: string;
  issuedAt: number;
  used: boolean;
  risky: boolean;
}

interface PhoneCode {
  appid: string;
  /** The user who tapped the button; absent for codes a test minted for nobody in particular. */
  openid: string | undefined;
  purePhoneNumber: string;
  countryCode: string;
  issuedAt: number;
  used: boolean;
}

export interface OAuthProfile {
  appid: string;
  openid: string;
  unionid: string | undefined;
  nickname: string;
  headimgurl: string;
  sex: number;
  province: string;
  city: string;
  country: string;
  /** What the user answers on the consent page for snsapi_userinfo. */
  consent: 'allow' | 'deny';
}

interface OAuthCode {
  profile: OAuthProfile;
  scope: 'snsapi_base' | 'snsapi_userinfo';
  issuedAt: number;
  used: boolean;
}

interface OAuthGrant {
  profile: OAuthProfile;
  scope: 'snsapi_base' | 'snsapi_userinfo';
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt: number;
}

interface AccessTokenRecord {
  appid: string;
  /** Usable until this instant (expiry, or end of grace once superseded). */
  validUntil: number;
  /** Revoked by a force refresh: answers 40001 at once. */
  revoked: boolean;
}

interface StableSlot {
  token: string;
  expiresAt: number;
  lastForceAt: number;
  forceDay: string;
  forceCount: number;
}

export type FaultKind = 'errcode' | 'http_500' | 'non_json' | 'hang';

export interface Fault {
  id: number;
  path: string;
  kind: FaultKind;
  errcode: number;
  /** How many more requests it hits; Infinity for "always". */
  remaining: number;
}

export class EmulatorState {
  readonly apps = new Map<string, AppRecord>();
  private readonly users = new Map<string, MiniProgramUser>();
  private readonly loginCodes = new Map<string, LoginCode>();
  private readonly phoneCodes = new Map<string, PhoneCode>();
  private readonly oauthCodes = new Map<string, OAuthCode>();
  private readonly oauthByAccess = new Map<string, OAuthGrant>();
  private readonly oauthByRefresh = new Map<string, OAuthGrant>();
  readonly oauthBrowserUser = new Map<string, OAuthProfile>();
  /** Every OA user by appid + openid: a changed nickname shows in grants issued before. */
  private readonly oauthProfiles = new Map<string, OAuthProfile>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly stable = new Map<string, StableSlot>();
  private readonly legacy = new Map<string, string>();
  private faults: Fault[] = [];
  private nextFaultId = 1;
  readonly calls = new Map<string, number>();
  private clockOffsetMs = 0;
  /** Where each app's events go (its message-push configuration). */
  readonly push = new MessagePush(() => this.now());
  /** Content security: the verdict rules a test sets, and the image checks under way. */
  readonly content = new ContentChecks();

  /**
   * @param devtoolsApps apps whose unknown login codes log in one local test user (DevTools
   *   preview offline; see exchangeLoginCode). Real WeChat has no such mode.
   * @param log where such a login is reported (the CLI prints it).
   */
  constructor(
    private readonly initialApps: readonly AppRecord[],
    readonly devtoolsApps: ReadonlySet<string> = new Set(),
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.reset();
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  reset(): void {
    this.apps.clear();
    for (const app of this.initialApps) this.apps.set(app.appid, { ...app });
    for (const map of [
      this.users,
      this.loginCodes,
      this.phoneCodes,
      this.oauthCodes,
      this.oauthByAccess,
      this.oauthByRefresh,
      this.oauthBrowserUser,
      this.oauthProfiles,
      this.accessTokens,
      this.stable,
      this.legacy,
      this.calls,
    ]) {
      map.clear();
    }
    this.faults = [];
    this.clockOffsetMs = 0;
    this.push.reset();
    this.content.reset();
  }

  /** Checks appid and secret the way WeChat does: 40013 for an unknown appid, 40125 for a wrong secret. */
  checkCredentials(appid: string | undefined, secret: string | undefined): number {
    const app = appid ? this.apps.get(appid) : undefined;
    if (!app) return 40013;
    if (secret !== app.secret) return 40125;
    return 0;
  }

  // ---- calls and faults ----

  countCall(path: string): void {
    this.calls.set(path, (this.calls.get(path) ?? 0) + 1);
  }

  addFault(path: string, kind: FaultKind, errcode: number, times: number): Fault {
    const fault: Fault = { id: this.nextFaultId++, path, kind, errcode, remaining: times };
    this.faults.push(fault);
    return fault;
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** The first armed fault for this path, consumed by one request. */
  takeFault(path: string): Fault | undefined {
    const fault = this.faults.find((f) => f.path === path && f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining -= 1;
    return fault;
  }

  // ---- mini-program login ----

  private userKey(appid: string, openid: string): string {
    return `${appid}\u0000${openid}`;
  }

  getUser(appid: string, openid: string): MiniProgramUser | undefined {
    return this.users.get(this.userKey(appid, openid));
  }

  /** What wx.login does on the phone: a fresh code and a rotated session_key. */
  mintLoginCode(input: {
    appid: string;
    openid?: string | undefined;
    unionid?: string | undefined;
    risky?: boolean | undefined;
  }): { code: string; user: MiniProgramUser } {
    const openid = input.openid ?? makeOpenid();
    const user = this.wxLogin(input.appid, openid, input.unionid);
    const code = randomBytes(16).toString('hex');
    this.loginCodes.set(code, {
      appid: input.appid,
      openid,
      sessionKey: user.sessionKey,
      issuedAt: this.now(),
      used: false,
      risky: input.risky ?? false,
    });
    return { code, user };
  }

  /** The phone side of wx.login: the user (created on first use) with a fresh session_key. */
  private wxLogin(appid: string, openid: string, unionid?: string): MiniProgramUser {
    const key = this.userKey(appid, openid);
    const user = this.users.get(key) ?? {
      appid,
      openid,
      unionid,
      sessionKey: '',
      recentExchanges: [],
      lastVisitAt: 0,
    };
    this.users.set(key, user);
    user.sessionKey = makeSessionKey();
    user.lastVisitAt = this.now();
    if (unionid !== undefined) user.unionid = unionid;
    return user;
  }

  /** WeChat's 100 code exchanges a minute per user (45011), counting the last minute only. */
  private overMinuteQuota(user: MiniProgramUser, now: number): boolean {
    user.recentExchanges = user.recentExchanges.filter((t) => now - t < 60_000);
    return user.recentExchanges.length >= LOGIN_RATE_LIMIT_PER_MINUTE;
  }

  /** jscode2session: single-use codes valid 5 minutes, 100 exchanges a minute per user. */
  exchangeLoginCode(
    appid: string,
    code: string,
  ):
    | { errcode: number; errmsg: string }
    | { openid: string; session_key: string; unionid?: string } {
    const entry = this.loginCodes.get(code);
    const now = this.now();
    if (!entry && this.devtoolsApps.has(appid)) return this.exchangeDevtoolsCode(appid, code, now);
    if (!entry || entry.appid !== appid || now - entry.issuedAt > LOGIN_CODE_TTL_MS) {
      return { errcode: 40029, errmsg: 'invalid code' };
    }
    if (entry.used) return { errcode: 40163, errmsg: 'code been used' };
    const user = this.getUser(appid, entry.openid);
    if (!user) return { errcode: 40029, errmsg: 'invalid code' };
    if (this.overMinuteQuota(user, now)) return MINUTE_QUOTA_ERROR;
    entry.used = true;
    if (entry.risky) return { errcode: 40226, errmsg: 'invalid user, risky user' };
    user.recentExchanges.push(now);
    return {
      openid: user.openid,
      session_key: entry.sessionKey,
      ...(user.unionid ? { unionid: user.unionid } : {}),
    };
  }

  /**
   * DevTools preview, offline (a mode real WeChat does not have). WeChat DevTools without an appid
   * (touristappid) answers wx.login with the literal code "the code is a mock one"; with a real
   * appid it hands out real WeChat codes, which only WeChat can exchange. For an app started in
   * DevTools mode, a code this emulator never minted (either kind) logs in one stable local user
   * per appid, with a fresh session_key as wx.login would give. Codes minted through the control
   * API keep their rules (single use, 5 minutes), and so does the minute quota.
   */
  private exchangeDevtoolsCode(
    appid: string,
    code: string,
    now: number,
  ): { errcode: number; errmsg: string } | { openid: string; session_key: string } {
    const openid = devtoolsOpenid(appid);
    const user = this.wxLogin(appid, openid); // the wx.login DevTools did
    if (this.overMinuteQuota(user, now)) return MINUTE_QUOTA_ERROR;
    user.recentExchanges.push(now);
    const kind = code === DEVTOOLS_MOCK_CODE ? 'the tourist mock code' : 'an unknown code';
    this.log(
      `DEV ONLY: ${kind} for ${appid} logged in the local DevTools user ${openid} (real WeChat refuses it)`,
    );
    return { openid, session_key: user.sessionKey };
  }

  /** resetusersessionkey: WeChat issues a new key and forgets the old one. */
  resetSessionKey(user: MiniProgramUser): string {
    user.sessionKey = makeSessionKey();
    return user.sessionKey;
  }

  // ---- phone ----

  mintPhoneCode(
    appid: string,
    purePhoneNumber: string,
    countryCode: string,
    openid?: string,
  ): string {
    const code = randomBytes(32).toString('hex');
    this.phoneCodes.set(code, {
      appid,
      openid,
      purePhoneNumber,
      countryCode,
      issuedAt: this.now(),
      used: false,
    });
    return code;
  }

  /**
   * getuserphonenumber: each code once, within 5 minutes, for its own appid (otherwise 40029);
   * when the caller names an `openid`, only for the user who tapped the button (otherwise 40003,
   * WeChat's "invalid openid", and the code stays unused).
   */
  redeemPhoneCode(appid: string, code: string, openid?: string): PhoneCode | 40029 | 40003 {
    const entry = this.phoneCodes.get(code);
    if (
      !entry ||
      entry.used ||
      entry.appid !== appid ||
      this.now() - entry.issuedAt > PHONE_CODE_TTL_MS
    ) {
      return 40029;
    }
    if (openid !== undefined && entry.openid !== undefined && openid !== entry.openid) return 40003;
    entry.used = true;
    return entry;
  }

  // ---- access tokens ----

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
  ): { access_token: string; expires_in: number } | { errcode: number; errmsg: string } {
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
        return { errcode: 45009, errmsg: 'reach max api daily quota limit' };
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

  // ---- Official Account OAuth ----

  /**
   * Puts a user in the browser: one already known (same openid) gets the given fields changed in
   * place, so grants issued before see the new nickname, as on WeChat; otherwise a new user.
   */
  setBrowserUser(appid: string, fields: Partial<OAuthProfile> = {}): OAuthProfile {
    const known = fields.openid ? this.oauthProfiles.get(`${appid}:${fields.openid}`) : undefined;
    const current = known ? Object.assign(known, fields) : defaultOAuthProfile(appid, fields);
    this.oauthProfiles.set(`${appid}:${current.openid}`, current);
    this.oauthBrowserUser.set(appid, current);
    return current;
  }

  browserUser(appid: string): OAuthProfile {
    let profile = this.oauthBrowserUser.get(appid);
    if (!profile) {
      profile = this.setBrowserUser(appid);
    }
    return profile;
  }

  mintOAuthCode(profile: OAuthProfile, scope: 'snsapi_base' | 'snsapi_userinfo'): string {
    const code = randomBytes(16).toString('hex');
    this.oauthCodes.set(code, { profile, scope, issuedAt: this.now(), used: false });
    return code;
  }

  exchangeOAuthCode(appid: string, code: string): OAuthGrant | { errcode: number; errmsg: string } {
    const entry = this.oauthCodes.get(code);
    if (!entry || entry.profile.appid !== appid) return { errcode: 40029, errmsg: 'invalid code' };
    if (entry.used) return { errcode: 40163, errmsg: 'code been used' };
    if (this.now() - entry.issuedAt > OAUTH_CODE_TTL_MS) {
      return { errcode: 42003, errmsg: 'code expired' };
    }
    entry.used = true;
    return this.newGrant(entry.profile, entry.scope);
  }

  private newGrant(profile: OAuthProfile, scope: OAuthGrant['scope']): OAuthGrant {
    const now = this.now();
    const grant: OAuthGrant = {
      profile,
      scope,
      accessToken: randomBytes(40).toString('base64url'),
      accessExpiresAt: now + ACCESS_TOKEN_TTL_MS,
      refreshToken: randomBytes(40).toString('base64url'),
      refreshExpiresAt: now + OAUTH_REFRESH_TTL_MS,
    };
    this.oauthByAccess.set(grant.accessToken, grant);
    this.oauthByRefresh.set(grant.refreshToken, grant);
    return grant;
  }

  refreshOAuth(
    appid: string,
    refreshToken: string,
  ): OAuthGrant | { errcode: number; errmsg: string } {
    const grant = this.oauthByRefresh.get(refreshToken);
    if (!grant || grant.profile.appid !== appid) {
      return { errcode: 40030, errmsg: 'invalid refresh_token' };
    }
    if (this.now() >= grant.refreshExpiresAt) {
      return { errcode: 42002, errmsg: 'refresh_token expired' };
    }
    // The refresh token stays the same for its 30 days; only the access token is renewed.
    this.oauthByAccess.delete(grant.accessToken);
    grant.accessToken = randomBytes(40).toString('base64url');
    grant.accessExpiresAt = this.now() + ACCESS_TOKEN_TTL_MS;
    this.oauthByAccess.set(grant.accessToken, grant);
    return grant;
  }

  oauthGrant(accessToken: string | undefined): OAuthGrant | { errcode: number; errmsg: string } {
    const grant = accessToken ? this.oauthByAccess.get(accessToken) : undefined;
    if (!grant) return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid' };
    if (this.now() >= grant.accessExpiresAt) {
      return { errcode: 42001, errmsg: 'access_token expired' };
    }
    return grant;
  }
}

export function makeSessionKey(): string {
  return randomBytes(16).toString('base64');
}

const MINUTE_QUOTA_ERROR = {
  errcode: 45011,
  errmsg: 'api minute-quota reach limit  mustslower  retry next minute',
} as const;

/** What wx.login answers in WeChat DevTools under the tourist appid (no real appid). */
export const DEVTOOLS_MOCK_CODE = 'the code is a mock one';

/** The one local DevTools user of an app: an openid-shaped value derived from the appid. */
export function devtoolsOpenid(appid: string): string {
  return `oDevTools${createHash('sha256').update(appid).digest('base64url').slice(0, 19)}`;
}

/** openids look like WeChat's: 28 characters, "o" then base64url. */
export function makeOpenid(): string {
  return `o${randomBytes(21).toString('base64url').slice(0, 27)}`;
}

export function defaultOAuthProfile(
  appid: string,
  overrides: Partial<OAuthProfile> = {},
): OAuthProfile {
  return {
    appid,
    openid: makeOpenid(),
    unionid: undefined,
    nickname: '微信用户',
    headimgurl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/emulator/132',
    sex: 0,
    province: '',
    city: '',
    country: '',
    consent: 'allow',
    ...overrides,
  };
}

/** The checksession / resetusersessionkey signature: HMAC-SHA256 of "" keyed by the key text. */
export function sessionKeySignature(sessionKey: string): string {
  return createHmac('sha256', sessionKey).update('').digest('hex');
}
