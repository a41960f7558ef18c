#!/usr/bin/env node
/**
 * wechat-emulator [--port 4000] [--host 127.0.0.1] [--app appid:secret ...]
 *                 [--devtools-app appid ...] [--verbose]
 * --devtools-app: unknown wx.login codes of that app (WeChat DevTools' "the code is a mock one"
 * under the tourist appid, or real codes DevTools got from WeChat) log in one local test user.
 * Dev only: real WeChat refuses such codes.
 * Prints "listening on http://127.0.0.1:<port>" when ready; stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startEmulator } from './server.js';
import type { AppRecord } from './state.js';

function fail(message: string): never {
  process.stderr.write(`wechat-emulator: ${message}\n`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '4000' },
        host: { type: 'string', default: '127.0.0.1' },
        app: { type: 'string', multiple: true, default: [] },
        'devtools-app': { type: 'string', multiple: true, default: [] },
        verbose: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535)
  fail(`--port must be 0-65535, got ${values.port}`);

const apps: AppRecord[] = values.app.map((pair) => {
  const at = pair.indexOf(':');
  if (at <= 0 || at === pair.length - 1) fail(`--app takes appid:secret, got "${pair}"`);
  return { appid: pair.slice(0, at), secret: pair.slice(at + 1) };
});

const devtoolsApps = values['devtools-app'];
for (const appid of devtoolsApps) {
  if (!apps.some((app) => app.appid === appid))
    fail(`--devtools-app ${appid} is not one of the --app apps`);
}

const emulator = await startEmulator({
  apps,
  devtoolsApps,
  log: (line) => process.stdout.write(`${line}\n`),
  host: values.host,
  port,
  logger: values.verbose,
}).catch((error: unknown) =>
  fail(`cannot listen on ${values.host}:${port}: ${(error as Error).message}`),
);
// The line tests, the bench and `npm start` wait for (LISTENING_LINE in @wxlogin/test-kit).
process.stdout.write(`listening on ${emulator.url}\n`);
process.stdout.write(
  `apps: ${apps.map((a) => a.appid).join(', ') || '(none; add with POST /__control/apps)'}\n`,
);
if (devtoolsApps.length > 0) {
  process.stdout.write(
    `DEV ONLY: WeChat DevTools codes log in a local user for ${devtoolsApps.join(', ')}\n`,
  );
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`wechat-emulator: ${signal}, closing\n`);
  emulator.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
