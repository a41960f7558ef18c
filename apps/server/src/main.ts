/**
 * wxlogin-server: reads the environment, opens the store (MongoDB when MONGODB_URL is set, the
 * embedded store under DATA_DIR otherwise), serves HTTP, and shuts down gracefully on
 * SIGTERM/SIGINT (in-flight requests finish, then the store is closed).
 */
import { type Store, createAuthDeps, openStore } from '@wxlogin/wechat-core';
import { LOG_REDACT_PATHS, buildServer } from './app.js';
import { ConfigError, loadConfig } from './config.js';

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
  store = await openStore({ mongodbUrl: config.mongodbUrl, dataDir: config.dataDir });
} catch (error) {
  die(
    `cannot open the ${config.mongodbUrl ? 'MongoDB' : 'embedded'} store: ${(error as Error).message}`,
  );
}

const deps = createAuthDeps({
  apps: [config.app],
  store,
  wechat: {
    apiOrigin: config.wechatApiOrigin,
    openOrigin: config.wechatOpenOrigin,
    timeoutMs: config.wechatTimeoutMs,
  },
  sessionTtlDays: config.sessionTtlDays,
});
const app = buildServer(deps, { logger: { level: config.logLevel, redact: LOG_REDACT_PATHS } });

try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  await store.close();
  die(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
}
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
process.stdout.write(`listening on http://${config.host}:${port}\n`);

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
