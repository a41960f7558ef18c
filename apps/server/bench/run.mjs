#!/usr/bin/env node
// npm run bench: one run, one machine. Starts the emulator, the server (embedded store) and a bare
// node:http floor server, each its own process, drives them with the same closed-loop load
// (autocannon, 32 connections), and prints figure / target / met, also written to .bench/.
// BENCH_SECONDS (default 10) sets the length of each load run.
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionManager } from '@wxlogin/wechat-core';
import { SQLITE_FILE, SqliteStore } from '@wxlogin/wechat-core/sqlite';
import { spawnUntilListening } from '@wxlogin/test-kit';
import { startEmulatorProcess } from '@wxlogin/wechat-emulator';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 32;
// Bench-only credentials, known only to the emulator started below.
const APP = { appid: 'wx0000000000bench0', secret: 'bench-emulator-secret' };
const log = (line) => process.stderr.write(`bench: ${line}\n`);

/** A node process of the bench (server, floor), started on a free port, its output drained. */
function startProcess(args, env = {}) {
  return spawnUntilListening({
    name: args[0],
    args,
    env: { PATH: process.env.PATH, ...env },
    keepOutput: false,
  });
}

/**
 * The server's limits during the bench, printed with the figures: all load comes from one address,
 * so the per-address login limit is off; the phone scenario binds 50 phones per user (it measures
 * access-token sharing, not a user's budget), so the per-user phone limit is off. Every other
 * limit keeps its default.
 */
const BENCH_LIMITS = { LOGIN_LIMIT_PER_MINUTE: '0', PHONE_LIMIT_PER_HOUR: '0' };

async function startServer(dataDir, emulatorUrl) {
  return startProcess([join(root, 'apps/server/bin/wxlogin-server.js')], {
    WECHAT_APPID: APP.appid,
    WECHAT_SECRET: APP.secret,
    WECHAT_API_ORIGIN: emulatorUrl,
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'warn',
    ...BENCH_LIMITS,
  });
}

async function rss(pid) {
  const { readFile } = await import('node:fs/promises');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** Codes minted before the clock starts: `users` users × 100 (WeChat's per-user minute limit). */
async function mintCodePool(control, users) {
  const pool = [];
  for (let i = 0; i < users; i += 1) {
    const minted = await control.mintLoginCodes({ appid: APP.appid, count: 100 });
    pool.push(...minted.codes);
  }
  return pool;
}

function load(options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { connections: CONNECTIONS, duration: SECONDS, ...options },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    autocannon.track(instance, {
      renderProgressBar: false,
      renderResultsTable: false,
      renderLatencyTable: false,
    });
  });
}

async function loginLoad(url, pool) {
  let next = 0;
  const result = await load({
    url: `${url}/login`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      { setupRequest: (request) => ({ ...request, body: JSON.stringify({ code: pool[next++] }) }) },
    ],
  });
  if (next >= pool.length) log(`warning: the code pool (${pool.length}) ran out; raise it`);
  return result;
}

function meLoad(url, token) {
  return load({ url: `${url}/me`, headers: { authorization: `Bearer ${token}` } });
}

async function loginOnce(url, control) {
  const { code } = (await control.mintLoginCode({ appid: APP.appid })) ?? {};
  const response = await fetch(`${url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  return (await response.json()).token;
}

async function folderSize(dir) {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await folderSize(path) : (await stat(path)).size;
  }
  return total;
}

/** Median time to require a built cloud function's index.js in a fresh process. */
async function coldStart(dir) {
  const standin = join(root, 'apps/cloudfunctions/shared/test-support/wx-server-sdk');
  const copy = await mkdtemp(join(tmpdir(), 'wxlogin-bench-cf-'));
  await cp(dir, copy, { recursive: true });
  await cp(standin, join(copy, 'node_modules', 'wx-server-sdk'), { recursive: true });
  const times = [];
  for (let i = 0; i < 7; i += 1) {
    const ms = await new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const t=process.hrtime.bigint();require(${JSON.stringify(join(copy, 'index.js'))});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.once('exit', (code) =>
        code === 0 ? resolve(Number(out)) : reject(new Error(`require failed (${code})`)),
      );
    });
    times.push(ms);
  }
  await rm(copy, { recursive: true, force: true });
  return times.sort((a, b) => a - b)[3];
}

/**
 * `count` sessions of one user in the SQLite store, through the store's own repository (1,000 a
 * turn: the store commits one turn's writes together). All but the last carry a synthetic hash;
 * the last is issued for real, and its token is returned for the /me load.
 */
async function seedSessions(dataDir, count) {
  const store = await SqliteStore.open({ dataDir, sweepIntervalMs: 0 });
  const now = new Date();
  const { user } = await store.users.upsertLogin({ appid: APP.appid, openid: 'oBenchScale', now });
  const expiresAt = new Date(now.getTime() + 30 * 24 * 3600_000);
  const hash = new Uint8Array(32);
  for (let i = 0; i < count - 1; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - 1 - i) }, (_, j) =>
        store.sessions.insert({
          id: `seed${String(i + j).padStart(16, '0')}`,
          secretHash: hash,
          userId: user.id,
          appid: APP.appid,
          createdAt: now,
          expiresAt,
          lastVerifiedAt: now,
        }),
      ),
    );
    if (i % 100_000 === 0 && i > 0) log(`scale: ${i} sessions`);
  }
  const sessions = new SessionManager({ store: store.sessions, ttlMs: 30 * 24 * 3600_000 });
  const { token } = await sessions.issue(user.id, APP.appid);
  await store.close();
  return token;
}

/** Bytes of the SQLite file and its WAL. */
async function databaseBytes(dataDir) {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    total += await stat(join(dataDir, `${SQLITE_FILE}${suffix}`)).then(
      (s) => s.size,
      () => 0,
    );
  }
  return total;
}

/** Opening the store in a fresh process, as a server start does (median of 5). */
async function openTime(dataDir) {
  const script = `
    const { SqliteStore } = await import('@wxlogin/wechat-core/sqlite');
    const t = performance.now();
    const store = await SqliteStore.open({ dataDir: process.argv[1], sweepIntervalMs: 0 });
    await store.ping();
    const ms = performance.now() - t;
    await store.close();
    process.stdout.write(String(ms));`;
  const times = [];
  for (let i = 0; i < 5; i += 1) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir], {
      cwd: here,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    times.push(await new Promise((resolve) => child.once('exit', () => resolve(Number(out)))));
  }
  return times.sort((a, b) => a - b)[2];
}

const rows = [];
const row = (figure, value, unit, target, met) => rows.push({ figure, value, unit, target, met });
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

const work = await mkdtemp(join(tmpdir(), 'wxlogin-bench-'));
const emulator = await startEmulatorProcess({ apps: [APP] });
const { control } = emulator;
try {
  // ---- floor ----
  log('starting the floor server');
  const floor = await startProcess([join(here, 'floor.mjs'), emulator.url, APP.appid, APP.secret]);
  const floorPool = await mintCodePool(control, Number(process.env.BENCH_CODE_USERS ?? 400));
  log(`floor: POST /login for ${SECONDS} s`);
  const floorLogin = await loginLoad(floor.url, floorPool);
  log(`floor: GET /me for ${SECONDS} s`);
  const floorMe = await meLoad(floor.url, 'unused');
  await floor.stop();

  // ---- server: login and authenticated read ----
  log('starting the server (embedded store)');
  const server = await startServer(join(work, 'main'), emulator.url);
  const serverPool = await mintCodePool(control, Number(process.env.BENCH_CODE_USERS ?? 400));
  log(`server: POST /login for ${SECONDS} s`);
  const serverLogin = await loginLoad(server.url, serverPool);
  const token = await loginOnce(server.url, control);
  log(`server: GET /me for ${SECONDS} s`);
  const serverMe = await meLoad(server.url, token);
  await server.stop();

  const loginRatio = serverLogin.requests.average / floorLogin.requests.average;
  row('floor POST /login', floorLogin.requests.average, 'req/s', '-', '-');
  row(
    'server POST /login',
    serverLogin.requests.average,
    'req/s',
    '>= 0.6 x floor',
    loginRatio >= 0.6,
  );
  row('server POST /login / floor', loginRatio, 'x', '>= 0.6', loginRatio >= 0.6);
  row(
    'server POST /login p99',
    serverLogin.latency.p99,
    'ms',
    '< 50 ms',
    serverLogin.latency.p99 < 50,
  );
  row(
    'server POST /login errors',
    serverLogin.non2xx + serverLogin.errors,
    'count',
    '0',
    serverLogin.non2xx + serverLogin.errors === 0,
  );
  const meRatio = serverMe.requests.average / floorMe.requests.average;
  row('floor GET /me', floorMe.requests.average, 'req/s', '-', '-');
  row('server GET /me', serverMe.requests.average, 'req/s', '>= 0.8 x floor', meRatio >= 0.8);
  row('server GET /me / floor', meRatio, 'x', '>= 0.8', meRatio >= 0.8);

  // ---- phone: 1,000 concurrent calls share one access token fetch ----
  log('phone: 1,000 concurrent POST /phone on a fresh server');
  const phoneServer = await startServer(join(work, 'phone'), emulator.url);
  const tokens = [];
  for (let i = 0; i < 20; i += 1) {
    const minted = await control.mintLoginCodes({ appid: APP.appid, count: 50 });
    for (const code of minted.codes) {
      const response = await fetch(`${phoneServer.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      tokens.push((await response.json()).token);
    }
  }
  const { codes: phoneCodes } = await control.mintPhoneCodes({ appid: APP.appid, count: 1000 });
  const stableBefore = await control.callCount('/cgi-bin/stable_token');
  const phoneStarted = performance.now();
  const phoneStatuses = await Promise.all(
    tokens.map((t, i) =>
      fetch(`${phoneServer.url}/phone`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
        body: JSON.stringify({ code: phoneCodes[i] }),
      }).then((r) => r.status),
    ),
  );
  const phoneMs = performance.now() - phoneStarted;
  const stableCalls = (await control.callCount('/cgi-bin/stable_token')) - stableBefore;
  await phoneServer.stop();
  const phoneOk = phoneStatuses.filter((s) => s === 200).length;
  row(
    'phone: upstream stable_token calls for 1,000 concurrent POST /phone',
    stableCalls,
    'calls',
    '1',
    stableCalls === 1,
  );
  row(
    'phone: 1,000 concurrent POST /phone answered 200',
    phoneOk,
    'of 1000',
    '1000',
    phoneOk === 1000,
  );
  row('phone: wall time for the 1,000', phoneMs, 'ms', '-', '-');

  // ---- scale: a million sessions in the embedded store ----
  const SCALE = Number(process.env.BENCH_SCALE_SESSIONS ?? 1_000_000);
  const scaleLabel = SCALE.toLocaleString('en-US');
  const scale = {};
  for (const count of [1_000, SCALE]) {
    log(`scale: seeding ${count} sessions`);
    const dataDir = join(work, `scale-${count}`);
    const lastToken = await seedSessions(dataDir, count);
    const bytes = await databaseBytes(dataDir);
    const openMs = await openTime(dataDir);
    const scaleServer = await startServer(dataDir, emulator.url);
    log(`scale: GET /me with ${count} sessions for ${SECONDS} s`);
    const result = await meLoad(scaleServer.url, lastToken);
    scale[count] = { rps: result.requests.average, rss: await rss(scaleServer.pid), bytes, openMs };
    await scaleServer.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const big = scale[SCALE];
  const scaleRatio = big.rps / scale[1_000].rps;
  row(
    `scale: store open with ${scaleLabel} sessions`,
    big.openMs,
    'ms',
    '< 1000 ms',
    big.openMs < 1000,
  );
  row(
    `scale: server RSS with ${scaleLabel} sessions, after the load`,
    big.rss / 2 ** 20,
    'MiB',
    '< 200 MiB',
    big.rss < 200 * 2 ** 20,
  );
  row(
    'scale: bytes on disk per session',
    (big.bytes - scale[1_000].bytes) / (SCALE - 1_000),
    'B',
    '-',
    '-',
  );
  row('scale: GET /me with 1k sessions', scale[1_000].rps, 'req/s', '-', '-');
  row(
    `scale: GET /me with ${scaleLabel} sessions`,
    big.rps,
    'req/s',
    'no fall (>= 0.9 x 1k)',
    scaleRatio >= 0.9,
  );

  // ---- cold start of the built cloud functions ----
  const cfRoot = join(root, 'apps/miniprogram/cloudfunctions');
  for (const name of ['login', 'userinfo', 'phone', 'rewards', 'account', 'mediacheck']) {
    const dir = join(cfRoot, name);
    const size = await folderSize(dir).catch(() => Number.NaN);
    row(
      `cloud function ${name}: folder size (without wx-server-sdk)`,
      size / 2 ** 20,
      'MiB',
      '< 1 MiB',
      size < 2 ** 20,
    );
    const ms = await coldStart(dir).catch(() => Number.NaN);
    row(
      `cloud function ${name}: require index.js, fresh process (median of 7)`,
      ms,
      'ms',
      '< 150 ms',
      ms < 150,
    );
  }

  // ---- client ----
  const mainPackage = join(root, 'apps/miniprogram/miniprogram');
  const clientSize = await folderSize(mainPackage).catch(() => Number.NaN);
  row(
    'mini-program main package',
    clientSize / 1024,
    'KiB',
    '< 200 KiB',
    Number.isFinite(clientSize) ? clientSize < 200 * 1024 : 'not built yet',
  );
} finally {
  await emulator.stop();
  await rm(work, { recursive: true, force: true });
}

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const widths = [64, 12, 10, 24, 6];
const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i] ?? 10)).join(' ');
process.stdout.write(
  `\nwxlogin bench (${machine}; ${CONNECTIONS} connections, ${SECONDS} s a run; server LOG_LEVEL=warn)\n` +
    `limits: ${Object.entries(BENCH_LIMITS)
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ' ',
      )} (off: one client address, 50 phones per user); LOGIN_CONCURRENCY=64 and the other per-user limits at their defaults\n`,
);
process.stdout.write(`${line(['figure', 'value', 'unit', 'target', 'met'])}\n`);
for (const r of rows) {
  const value =
    r.unit === 'x'
      ? fmt(r.value, 2)
      : r.unit === 'MiB'
        ? fmt(r.value, 2)
        : fmt(r.value, r.unit === 'ms' ? 1 : 0);
  process.stdout.write(
    `${line([r.figure, value, r.unit, r.target, r.met === true ? 'yes' : r.met === false ? 'NO' : r.met])}\n`,
  );
}
await mkdir(join(root, '.bench'), { recursive: true });
const file = join(root, '.bench', 'results.json');
await writeFile(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), machine, seconds: SECONDS, connections: CONNECTIONS, rows }, null, 2)}\n`,
);
process.stdout.write(`\nwritten to ${file}\n`);
