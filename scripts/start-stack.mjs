#!/usr/bin/env node
// The local stack behind `npm start`: the WeChat emulator (unless WECHAT_API_ORIGIN points at a
// real WeChat) and the HTTP server on the embedded store, with an emulated Official Account for
// the web login page. Ctrl-C stops every child, then exits.
import { spawn } from 'node:child_process';
import { LISTENING_LINE } from '@wxlogin/test-kit';
import { lanAddress, writeDevServer } from './lan.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const useEmulator = !process.env.WECHAT_API_ORIGIN;
// With the emulator, each credential has a dev-only default known only to the local emulator
// (never a real app's); against the real WeChat it must come from the environment.
const setting = (name, emulatorDefault) =>
  useEmulator ? (process.env[name] ?? emulatorDefault) : process.env[name];
const appid = setting('WECHAT_APPID', 'wxdevlocalemulator');
const secret = setting('WECHAT_SECRET', 'local-emulator-secret');
// The Official Account of the web login: an emulated one unless configured.
const oaAppid = setting('WECHAT_OA_APPID', 'wxdevlocalofficial');
const oaSecret = setting('WECHAT_OA_SECRET', 'local-emulator-oa-secret');
const emulatorPort = process.env.EMULATOR_PORT ?? '4000';
const serverPort = process.env.PORT ?? '3000';
// LAN=1: listen on every interface, so a phone on the same network can preview (real device).
const lan = ['1', 'true', 'yes'].includes((process.env.LAN ?? '').toLowerCase());
const lanIp = lan ? lanAddress() : undefined;
const devServerFile = join(root, 'apps/miniprogram/miniprogram/dev-server.ts');
const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;

const children = new Set();
const ready = new Map();
let stopping = false;
let exitCode = 0;

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  if (children.size === 0) process.exit(code);
  for (const child of children) child.kill('SIGTERM');
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

function start(name, args, env) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const relay = (stream) => (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      stream.write(`[${name}] ${line}\n`);
      const match = LISTENING_LINE.exec(line);
      if (match) {
        ready.set(name, match[1]);
        if (ready.size === children.size) void printSummary();
      }
    }
  };
  child.stdout.on('data', relay(process.stdout));
  child.stderr.on('data', relay(process.stderr));
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      process.stderr.write(`[${name}] exited (${signal ?? code}); stopping the stack\n`);
      stop(code || 1);
    } else if (children.size === 0) {
      process.exit(exitCode);
    }
  });
}

/** The emulator's browser user: a nickname and an avatar the page can show offline. */
async function seedBrowserUser() {
  await fetch(`${emulatorUrl}/__control/oauth-user`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      appid: oaAppid,
      nickname: '本地测试用户',
      headimgurl: `${emulatorUrl}/mmopen/emulator-avatar.svg`,
    }),
  }).catch(() => undefined);
}

async function printSummary() {
  const server = ready.get('server');
  // The URL the mini-program uses: this machine's LAN address with LAN=1, else loopback.
  const clientUrl = `http://${lanIp ?? '127.0.0.1'}:${new URL(server).port}`;
  const wrote = await writeDevServer(devServerFile, clientUrl).catch(() => false);
  if (useEmulator && oaAppid) await seedBrowserUser();
  const lines = [''];
  if (useEmulator) {
    lines.push(
      `WeChat emulator  ${emulatorUrl}   (stands in for api.weixin.qq.com; control API at /__control)`,
    );
  }
  lines.push(
    process.env.MONGODB_URL
      ? `server           ${server}   (store: MongoDB)`
      : `server           ${server}   (store: SQLite, ${join(process.env.DATA_DIR ?? './.data', 'wxlogin.sqlite')})`,
    `app              ${appid}`,
    `mini-program     ${clientUrl}   (apps/miniprogram/miniprogram/dev-server.ts${wrote ? ', just written' : ''})`,
    ...(lan && !lanIp ? ['LAN=1, but this machine has no LAN IPv4 address: loopback only'] : []),
    ...(lanIp
      ? [
          `LAN=1: a phone on the same network reaches ${clientUrl}. In DevTools use "Preview" or`,
          '"Real-device debugging", and on the phone open the debug panel (开发调试) so that the',
          'http address is allowed. Anyone on this network can reach the server too.',
        ]
      : []),
    ...(oaAppid ? [`Official Account ${oaAppid}: web login page at ${server}/`] : []),
    '',
    'WeChat DevTools: import apps/miniprogram, keep the http transport (base URL above) and tick',
    '"Do not verify request domain" (urlCheck: false) in the project settings.',
  );
  if (useEmulator) {
    lines.push(
      `DEV ONLY: codes from DevTools' wx.login (the tourist appid's "the code is a mock one", or any`,
      `code DevTools got for ${appid}) log in one local test user. Real WeChat refuses them.`,
    );
  }
  if (useEmulator) {
    lines.push(
      '',
      'Try a login (a code from the emulator plays the part of wx.login):',
      `  CODE=$(curl -s -X POST ${emulatorUrl}/__control/login-codes -d '{"appid":"${appid}"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).codes[0]')`,
      `  curl -s -X POST ${server}/login -H 'content-type: application/json' -d "{\\"code\\":\\"$CODE\\"}"`,
    );
  }
  lines.push('', 'Ctrl-C stops the stack.', '');
  process.stdout.write(lines.join('\n'));
}

if (!appid || !secret) {
  process.stderr.write(
    'npm start: WECHAT_API_ORIGIN is set, so WECHAT_APPID and WECHAT_SECRET must be set too\n',
  );
  process.exit(1);
}

if (useEmulator) {
  start('emulator', [
    join(root, 'packages/wechat-emulator/bin/wechat-emulator.js'),
    '--port',
    emulatorPort,
    '--app',
    `${appid}:${secret}`,
    ...(oaAppid && oaSecret ? ['--app', `${oaAppid}:${oaSecret}`] : []),
    // DevTools preview offline: DevTools' own wx.login codes log in one local user (dev only).
    '--devtools-app',
    appid,
  ]);
}
start('server', [join(root, 'apps/server/bin/wxlogin-server.js')], {
  WECHAT_APPID: appid,
  WECHAT_SECRET: secret,
  ...(oaAppid && oaSecret ? { WECHAT_OA_APPID: oaAppid, WECHAT_OA_SECRET: oaSecret } : {}),
  ...(useEmulator ? { WECHAT_API_ORIGIN: emulatorUrl, WECHAT_OPEN_ORIGIN: emulatorUrl } : {}),
  PORT: serverPort,
  // Without a LAN address there is nothing a phone could reach: loopback only, as printed.
  ...(lanIp ? { HOST: '0.0.0.0' } : {}),
  // Avatar links name the address the phone uses (the server never builds them from Host).
  ...(lanIp && !process.env.PUBLIC_URL
    ? {
        PUBLIC_URL: `http://${lanIp}:${serverPort}`,
        // A development stack: plain http even where the address is not a private one.
        ALLOW_HTTP_PUBLIC_URL: '1',
      }
    : {}),
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
});
