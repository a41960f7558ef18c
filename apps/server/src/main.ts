/**
 * wxlogin-server: reads the environment, opens the store (MongoDB when MONGODB_URL is set, the
 * embedded store under DATA_DIR otherwise), serves HTTP, and shuts down gracefully on
 * SIGTERM/SIGINT (in-flight requests finish, then the store is closed).
 */
import {
  type Store,
  WechatOAuthClient,
  createAuthDeps,
  eraseDueAccounts,
  openStore,
} from '@wxlogin/wechat-core';
import { LOG_REDACT_PATHS, LOG_SERIALIZERS, buildServer } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { PublicUrl } from './public-url.js';
import type { WebLoginOptions } from './web/oauth-routes.js';
import { loadOrCreateStateSecret } from './web/state-secret.js';

function die(message: string): never {
  process.stderr.write(`wxlogin-server: ${message}\n`);
  process.exit(1);
}

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  die(error instanceof ConfigError ? error.message : String(error));
}

let store: Store;
try {
  store = await openStore({
    mongodbUrl: config.mongodbUrl,
    dataDir: config.dataDir,
    busyTimeoutMs: config.sqliteBusyTimeoutMs,
    progress: (line) => process.stderr.write(`wxlogin-server: embedded store: ${line}\n`),
  });
} catch (error) {
  die(
    `cannot open the ${config.mongodbUrl ? 'MongoDB' : 'embedded'} store: ${(error as Error).message}`,
  );
}

const wechat = {
  apiOrigin: config.wechatApiOrigin,
  openOrigin: config.wechatOpenOrigin,
  timeoutMs: config.wechatTimeoutMs,
};
const deps = createAuthDeps({
  apps: config.apps,
  store,
  wechat,
  sessionTtlDays: config.sessionTtlDays,
  sessionMaxDays: config.sessionMaxDays,
});

// PUBLIC_URL, or by default this machine with the port bound (PORT=0 picks one): given after listen.
const publicUrl = new PublicUrl(config.publicUrl);
let web: WebLoginOptions | undefined;
if (config.officialAccount) {
  let stateSecret = config.oauthStateSecret;
  if (!stateSecret) {
    try {
      stateSecret = (await loadOrCreateStateSecret(config.dataDir)).secret;
    } catch (error) {
      await store.close();
      die(
        `cannot read or create the OAuth state key in ${config.dataDir}: ${(error as Error).message}`,
      );
    }
  }
  web = {
    officialAccount: config.officialAccount,
    oauth: new WechatOAuthClient(wechat),
    stateSecret,
    publicUrl,
  };
}
const app = buildServer(deps, {
  logger: { level: config.logLevel, redact: LOG_REDACT_PATHS, serializers: LOG_SERIALIZERS },
  publicUrl,
  web,
  limits: config.limits,
  connections: config.connections,
  ...(config.trustProxy.length > 0 ? { trustProxy: config.trustProxy } : {}),
  accountDeletionDays: config.accountDeletionDays,
  push: config.push,
});
if (config.push && !config.push.aesKey)
  app.log.warn(
    'message push in plain mode: WeChat does not sign the body, and replays are remembered by this instance only; set WECHAT_PUSH_AES_KEY (safe mode), above all with several instances',
  );
if (!config.push)
  app.log.warn(
    'WECHAT_PUSH_TOKEN is not set: uploaded avatars are not submitted to WeChat content security (its verdict arrives by message push at /wechat/events); nicknames still are checked',
  );
if (web && config.mongodbUrl && !config.oauthStateSecret)
  app.log.warn(
    'OAUTH_STATE_SECRET is not set: this instance signs OAuth states with its own key from DATA_DIR; instances behind one load balancer must share OAUTH_STATE_SECRET',
  );

try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  await store.close();
  die(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
}
const address = app.server.address();
const boundPort = typeof address === 'object' && address ? address.port : config.port;
publicUrl.bound(boundPort);
// The line tests, the bench and `npm start` wait for (LISTENING_LINE in @wxlogin/test-kit).
process.stdout.write(`listening on http://${config.host}:${boundPort}\n`);
if (web) process.stdout.write(`Official Account web login at ${publicUrl.href}/\n`);

// Accounts whose deletion is due are erased now and then (a login of one erases it at once);
// one sweep at a time.
let sweeping = false;
async function sweepDeletions(): Promise<void> {
  if (sweeping) return;
  sweeping = true;
  try {
    const erased = await eraseDueAccounts({ ...deps, log: app.log });
    if (erased > 0)
      app.log.info({ event: 'accounts_erased', erased }, 'erased accounts whose deletion was due');
  } catch (error) {
    app.log.warn({ err: error }, 'account erasure sweep failed; the next sweep tries again');
  } finally {
    sweeping = false;
  }
}
void sweepDeletions();
setInterval(() => void sweepDeletions(), config.accountSweepIntervalMs).unref();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down');
  try {
    await app.close();
    await store.close();
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
