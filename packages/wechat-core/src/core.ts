/**
 * Wires the core from a typed config. Runtime adapters read their environment, build this config,
 * and call the use-cases with the deps it returns.
 */
import { AppRegistry } from './apps.js';
import type { AuthDeps, AuthLogger } from './auth/deps.js';
import { wechatContentSecurity } from './auth/content.js';
import { SessionManager } from './auth/sessions.js';
import type { Store } from './store/types.js';
import { WechatClient } from './wechat/client.js';
import { WechatHttp, type WechatHttpOptions } from './wechat/http.js';
import type { AppCredentials } from './wechat/client.js';
import { StableTokenBroker } from './wechat/token-broker.js';

export interface StoreConfig {
  /** MongoDB when set; the embedded SQLite store under dataDir otherwise. */
  mongodbUrl?: string | undefined;
  dataDir: string;
  /** SQLite only: how long a write waits for another process's lock. Default 3000 ms. */
  busyTimeoutMs?: number | undefined;
  /** SQLite only: lines about long work at open (the upgrade from release 0.1). */
  progress?: (line: string) => void;
}

/**
 * Opens MongoDB when a URL is given, else the embedded SQLite store. Each driver is loaded only
 * when chosen, so a server on SQLite never evaluates the MongoDB driver and vice versa.
 */
export async function openStore(config: StoreConfig): Promise<Store> {
  if (config.mongodbUrl) {
    const { MongoStore } = await import('./store/mongo.js');
    return MongoStore.connect({ url: config.mongodbUrl });
  }
  const { SqliteStore } = await import('./store/sqlite.js');
  return SqliteStore.open({
    dataDir: config.dataDir,
    busyTimeoutMs: config.busyTimeoutMs,
    progress: config.progress,
  });
}

export interface CoreConfig {
  /** The mini-programs served; the first is the default. */
  apps: readonly AppCredentials[];
  store: Store;
  wechat?: WechatHttpOptions;
  /** Sliding session lifetime; default 30. */
  sessionTtlDays?: number;
  /** Absolute session lifetime from login, however active; default 90. */
  sessionMaxDays?: number;
  now?: () => Date;
  /** Where warnings an operator should see go (a unionid conflict, say). */
  log?: AuthLogger;
  /** Check nicknames and avatars with WeChat's content security (default true). */
  contentSecurity?: boolean;
}

/**
 * Builds the dependencies the use-cases take.
 * @example
 * const store = await openStore({ dataDir: './.data' });
 * const deps = createAuthDeps({ apps: [{ appid, secret }], store });
 * const result = await login({ code }, { appid }, deps);
 */
export function createAuthDeps(config: CoreConfig): AuthDeps {
  const now = config.now ?? (() => new Date());
  const http = new WechatHttp(config.wechat);
  const wechat = new WechatClient(http);
  const apps = new AppRegistry(config.apps);
  const tokens = new StableTokenBroker({
    client: wechat,
    apps,
    store: config.store.accessTokens,
    now: () => now().getTime(),
  });
  return {
    apps,
    wechat,
    store: config.store,
    now,
    log: config.log,
    ...(config.contentSecurity === false
      ? {}
      : { content: wechatContentSecurity({ wechat, tokens }) }),
    tokens,
    sessions: new SessionManager({
      store: config.store.sessions,
      ttlMs: (config.sessionTtlDays ?? 30) * 24 * 3600_000,
      ...(config.sessionMaxDays === undefined
        ? {}
        : { maxAgeMs: config.sessionMaxDays * 24 * 3600_000 }),
      now,
    }),
  };
}
