/** The real server process (apps/server's bin) for the client's end-to-end tests. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_BIN = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'server',
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
  const child = spawn(process.execPath, [SERVER_BIN], {
    env: {
      PATH: process.env.PATH ?? '',
      WECHAT_APPID: options.app.appid,
      WECHAT_SECRET: options.app.secret,
      WECHAT_API_ORIGIN: options.emulatorUrl,
      DATA_DIR: options.dataDir,
      PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
