// Real-device preview: where a phone on the same network reaches `npm start`, and the module the
// mini-program reads it from (apps/miniprogram/miniprogram/dev-server.ts, its one config module's
// source of the local server's URL).
import { readFile, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';

const PRIVATE = [/^10\./, /^192\.168\./, /^172\.(1[6-9]|2\d|3[01])\./];

/** The machine's LAN IPv4 address a phone would use: a private one first; undefined if none. */
export function lanAddress(interfaces = networkInterfaces()) {
  const candidates = Object.values(interfaces)
    .flat()
    .filter((entry) => entry && !entry.internal && (entry.family === 'IPv4' || entry.family === 4))
    .map((entry) => entry.address);
  return (
    candidates.find((address) => PRIVATE.some((range) => range.test(address))) ?? candidates[0]
  );
}

/** The source of dev-server.ts for a server URL. */
export function devServerModule(url) {
  return `/**
 * Where \`npm start\` serves the local server, as this mini-program reaches it; config.ts uses it.
 * \`npm start\` rewrites this file: 127.0.0.1 for DevTools' simulator, or with LAN=1 this machine's
 * LAN address, so a phone on the same network reaches it (real-device preview).
 */
export const DEV_SERVER_URL = '${url}';
`;
}

/** Writes dev-server.ts when its URL differs; answers whether it changed the file. */
export async function writeDevServer(file, url) {
  const text = devServerModule(url);
  const current = await readFile(file, 'utf8').catch(() => '');
  if (current === text) return false;
  await writeFile(file, text);
  return true;
}
