#!/usr/bin/env node
/**
 * wechat-emulator [--port 4000] [--host 127.0.0.1] [--app appid:secret ...] [--verbose]
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

const emulator = await startEmulator({
  apps,
  host: values.host,
  port,
  logger: values.verbose,
}).catch((error: unknown) =>
  fail(`cannot listen on ${values.host}:${port}: ${(error as Error).message}`),
);
process.stdout.write(`listening on ${emulator.url}\n`);
process.stdout.write(
  `apps: ${apps.map((a) => a.appid).join(', ') || '(none; add with POST /__control/apps)'}\n`,
);

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
