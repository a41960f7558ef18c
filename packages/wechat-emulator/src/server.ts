import Fastify, { type FastifyInstance } from 'fastify';
import { registerContentSecurityRoutes } from './content-security.js';
import { registerControlRoutes } from './control-routes.js';
import { type AppRecord, EmulatorState } from './state.js';
import { registerWechatRoutes } from './wechat-routes.js';

export interface EmulatorOptions {
  /** Apps WeChat knows from the start (more can be added through the control API). */
  apps: readonly AppRecord[];
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  logger?: boolean;
  /** Apps whose unknown login codes log in one local user (DevTools preview; see EmulatorState). */
  devtoolsApps?: readonly string[];
  /** Where such logins are reported. */
  log?: (line: string) => void;
}

export interface RunningEmulator {
  /** Origin for both WECHAT_API_ORIGIN and WECHAT_OPEN_ORIGIN, e.g. http://127.0.0.1:4000. */
  url: string;
  state: EmulatorState;
  close(): Promise<void>;
}

export function buildEmulatorApp(state: EmulatorState, logger = false): FastifyInstance {
  // forceCloseConnections: the "hang" fault leaves requests open that close() must cut.
  const app = Fastify({ logger, forceCloseConnections: true });
  // WeChat reads bodies itself (bad JSON is errcode 47001, not an HTTP 400), so take them raw.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'string', bodyLimit: 1024 * 1024 },
    (_req, raw, done) => {
      done(null, raw);
    },
  );
  registerWechatRoutes(app, state);
  registerContentSecurityRoutes(app, state);
  registerControlRoutes(app, state);
  return app;
}

/** Starts an emulator inside this process. Tests that want the real process use startEmulatorProcess. */
export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const state = new EmulatorState(options.apps, new Set(options.devtoolsApps), options.log);
  const app = buildEmulatorApp(state, options.logger ?? false);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { url: `http://${host}:${port}`, state, close: () => app.close() };
}
