/**
 * The emulator's memory: everything WeChat would remember, one part per concern behind this
 * facade; the route files only translate HTTP. `reset()` builds every part anew, so no map of any
 * part can be left out of a reset.
 */
import { ContentChecks } from './content-security.js';
import { MessagePush } from './push.js';
import { AccessTokens } from './state/access-tokens.js';
import { CallsAndFaults } from './state/faults.js';
import { MiniProgramLogins } from './state/mini-program.js';
import { OfficialAccountOAuth } from './state/oauth.js';

export type { FaultKind } from './state/faults.js';
export { DEVTOOLS_MOCK_CODE, devtoolsOpenid, sessionKeySignature } from './state/mini-program.js';

export interface AppRecord {
  appid: string;
  secret: string;
}

/** Every part of the state, built together (and rebuilt by reset). */
function createParts(
  now: () => number,
  devtoolsApps: ReadonlySet<string>,
  log: (line: string) => void,
) {
  return {
    logins: new MiniProgramLogins(now, devtoolsApps, log),
    tokens: new AccessTokens(now),
    oauth: new OfficialAccountOAuth(now),
    faults: new CallsAndFaults(),
    /** Where each app's events go (its message-push configuration). */
    push: new MessagePush(now),
    /** Content security: the verdict rules a test sets, and the image checks under way. */
    content: new ContentChecks(),
  };
}

export class EmulatorState {
  readonly apps = new Map<string, AppRecord>();
  private clockOffsetMs = 0;
  private parts: ReturnType<typeof createParts>;

  /**
   * @param devtoolsApps apps whose unknown login codes log in one local test user (DevTools
   *   preview offline; see MiniProgramLogins.exchangeLoginCode). Real WeChat has no such mode.
   * @param log where such a login is reported (the CLI prints it).
   */
  constructor(
    private readonly initialApps: readonly AppRecord[],
    readonly devtoolsApps: ReadonlySet<string> = new Set(),
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.parts = this.startOver();
  }

  /** Mini-program users, login codes (jscode2session, DevTools mode) and phone codes. */
  get logins(): MiniProgramLogins {
    return this.parts.logins;
  }

  /** App access tokens (stable_token, /cgi-bin/token). */
  get tokens(): AccessTokens {
    return this.parts.tokens;
  }

  /** Official Account web authorization. */
  get oauth(): OfficialAccountOAuth {
    return this.parts.oauth;
  }

  /** Faults armed by tests, and call counters. */
  get faults(): CallsAndFaults {
    return this.parts.faults;
  }

  get push(): MessagePush {
    return this.parts.push;
  }

  get content(): ContentChecks {
    return this.parts.content;
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  reset(): void {
    this.parts = this.startOver();
  }

  /** The apps and clock as started, and every part built anew (none can keep a stale map). */
  private startOver(): ReturnType<typeof createParts> {
    this.apps.clear();
    for (const app of this.initialApps) this.apps.set(app.appid, { ...app });
    this.clockOffsetMs = 0;
    return createParts(() => this.now(), this.devtoolsApps, this.log);
  }

  /** Checks appid and secret the way WeChat does: 40013 for an unknown appid, 40125 for a wrong secret. */
  checkCredentials(appid: string | undefined, secret: string | undefined): number {
    const app = appid ? this.apps.get(appid) : undefined;
    if (!app) return 40013;
    if (secret !== app.secret) return 40125;
    return 0;
  }
}
