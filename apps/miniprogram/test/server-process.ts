/** The real server process (apps/server's bin) for the client's end-to-end tests. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnUntilListening } from '@wxlogin/test-kit';

// A declared devDependency, so turbo builds the server before these tests run.
const SERVER_BIN = join(
  dirname(createRequire(import.meta.url).resolve('@wxlogin/server/package.json')),
  'bin',
  'wxlogin-server.js',
);

export interface ServerProcess {
  url: string;
  stop(): Promise<void>;
}

/** Starts the server for one app against the emulator, on a free port, and waits until it listens. */
export async function startServer(options: {
  app: { appid: string; secret: string };
  emulatorUrl: string;
  dataDir: string;
}): Promise<ServerProcess> {
  const server = await spawnUntilListening({
    name: 'server',
    args: [SERVER_BIN],
    env: {
      PATH: process.env.PATH ?? '',
      WECHAT_APPID: options.app.appid,
      WECHAT_SECRET: options.app.secret,
      WECHAT_API_ORIGIN: options.emulatorUrl,
      DATA_DIR: options.dataDir,
      PORT: '0',
      LOG_LEVEL: 'warn',
    },
  });
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
    },
  };
}
