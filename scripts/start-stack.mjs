#!/usr/bin/env node
// The local stack behind `npm start`: the WeChat emulator with a dev app it knows.
// Ctrl-C stops every child and then this process.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// Dev-only credentials, known only to the local emulator; never a real app's.
const DEV_APPID = process.env.WECHAT_APPID ?? 'wxdevlocalemulator';
const DEV_SECRET = process.env.WECHAT_SECRET ?? 'local-emulator-secret';
const emulatorPort = process.env.EMULATOR_PORT ?? '4000';

const children = new Set();

function start(name, args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const prefix = (chunk) =>
    chunk
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => `[${name}] ${line}\n`)
      .join('');
  child.stdout.on('data', (chunk) => process.stdout.write(prefix(chunk)));
  child.stderr.on('data', (chunk) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      process.stderr.write(`[${name}] exited (${signal ?? code}); stopping the stack\n`);
      stop(code || 1);
    } else if (children.size === 0) {
      process.exit(exitCode);
    }
  });
  return child;
}

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

const emulator = start('emulator', [
  join(root, 'packages/wechat-emulator/bin/wechat-emulator.js'),
  '--port',
  emulatorPort,
  '--app',
  `${DEV_APPID}:${DEV_SECRET}`,
]);
emulator.stdout.once('data', () => {
  const url = `http://127.0.0.1:${emulatorPort}`;
  process.stdout.write(
    [
      '',
      `WeChat emulator  ${url}   (answers like api.weixin.qq.com and open.weixin.qq.com)`,
      `dev app          ${DEV_APPID}`,
      `control API      ${url}/__control   e.g. mint a wx.login code:`,
      `  curl -s -X POST ${url}/__control/login-codes -d '{"appid":"${DEV_APPID}"}'`,
      'Ctrl-C stops the stack.',
      '',
    ].join('\n'),
  );
});
