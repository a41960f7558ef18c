/**
 * Mini-program login as WeChat remembers it: users (one per appid + openid, with the session_key
 * wx.login rotates), login codes, phone codes, and the DevTools mode for unknown codes.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

export const LOGIN_CODE_TTL_MS = 5 * 60_000;
export const PHONE_CODE_TTL_MS = 5 * 60_000;
export const LOGIN_RATE_LIMIT_PER_MINUTE = 100;

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

export interface LoginCode {
  appid: string;
  openid: string;
  sessionKey: string;
  issuedAt: number;
  used: boolean;
  risky: boolean;
}

export interface PhoneCode {
  appid: string;
  /** The user who tapped the button; absent for codes a test minted for nobody in particular. */
  openid: string | undefined;
  purePhoneNumber: string;
  countryCode: string;
  issuedAt: number;
  used: boolean;
}

export class MiniProgramLogins {
  private readonly users = new Map<string, MiniProgramUser>();
  private readonly loginCodes = new Map<string, LoginCode>();
  private readonly phoneCodes = new Map<string, PhoneCode>();

  /**
   * @param devtoolsApps apps whose unknown login codes log in one local test user (DevTools
   *   preview offline; see exchangeLoginCode). Real WeChat has no such mode.
   * @param log where such a login is reported (the CLI prints it).
   */
  constructor(
    private readonly now: () => number,
    private readonly devtoolsApps: ReadonlySet<string>,
    private readonly log: (line: string) => void,
  ) {}

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
  ): { errcode: number } | { openid: string; session_key: string; unionid?: string } {
    const entry = this.loginCodes.get(code);
    const now = this.now();
    if (!entry && this.devtoolsApps.has(appid)) return this.exchangeDevtoolsCode(appid, code, now);
    if (!entry || entry.appid !== appid || now - entry.issuedAt > LOGIN_CODE_TTL_MS) {
      return { errcode: 40029 };
    }
    if (entry.used) return { errcode: 40163 };
    const user = this.getUser(appid, entry.openid);
    if (!user) return { errcode: 40029 };
    if (this.overMinuteQuota(user, now)) return { errcode: 45011 };
    entry.used = true;
    if (entry.risky) return { errcode: 40226 };
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
  ): { errcode: number } | { openid: string; session_key: string } {
    const openid = devtoolsOpenid(appid);
    const user = this.wxLogin(appid, openid); // the wx.login DevTools did
    if (this.overMinuteQuota(user, now)) return { errcode: 45011 };
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
}

export function makeSessionKey(): string {
  return randomBytes(16).toString('base64');
}

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

/** The checksession / resetusersessionkey signature: HMAC-SHA256 of "" keyed by the key text. */
export function sessionKeySignature(sessionKey: string): string {
  return createHmac('sha256', sessionKey).update('').digest('hex');
}
