// @ts-check
// A million sessions (BENCH_SCALE_SESSIONS) in the embedded store: opening it, its size on disk,
// the server's memory, and whether verifying a token slows down against a table of 1k sessions.
/* global process -- Node's globals: the eslint config declares none for .mjs */
import { spawn } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { residentBytes } from '@wxlogin/test-kit';
import { SQLITE_FILE, SqliteStore } from '@wxlogin/wechat-core/sqlite';
import { SECONDS, benchDir, loginOnce, meLoad, startServer } from '../support.mjs';

/** @import { BenchContext } from '../support.mjs' */

/** The user whose sessions fill the table, and whose token the load verifies. */
const OPENID = 'oBenchScale';
const DAY_MS = 24 * 3600_000;

/**
 * `count` sessions of one user in the store at `dataDir`. All but the last are written through the
 * store's own repository with a synthetic hash (1,000 a turn: the store commits one turn's writes
 * together); the last is issued by a real login through the server, and its token is returned.
 * @param {BenchContext} ctx
 * @param {string} dataDir
 * @param {number} count
 */
async function fillSessions(ctx, dataDir, count) {
  const { app, log } = ctx;
  const store = await SqliteStore.open({ dataDir, sweepIntervalMs: 0 });
  const now = new Date();
  const { user } = await store.users.upsertLogin({ appid: app.appid, openid: OPENID, now });
  const expiresAt = new Date(now.getTime() + 30 * DAY_MS);
  const hash = new Uint8Array(32);
  for (let i = 0; i < count - 1; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - 1 - i) }, (_, j) =>
        store.sessions.insert({
          id: `seed${String(i + j).padStart(16, '0')}`,
          secretHash: hash,
          userId: user.id,
          appid: app.appid,
          createdAt: now,
          expiresAt,
          lastVerifiedAt: now,
        }),
      ),
    );
    if (i % 100_000 === 0 && i > 0) log(`scale: ${i} sessions`);
  }
  await store.close();
  // The login finds the user above by its openid; the server is stopped again so that the store is
  // measured, and opened, as the seeding left it.
  const running = await startServer(ctx, dataDir);
  const token = await loginOnce(ctx, running.url, { openid: OPENID });
  await running.stop();
  return token;
}

/**
 * Bytes of the SQLite file and its WAL.
 * @param {string} dataDir
 */
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

/**
 * Opening the store in a fresh process, as a server start does (median of 5).
 * @param {string} dataDir
 */
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
      cwd: benchDir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    times.push(
      await new Promise(
        /** @param {(ms: number) => void} resolve */
        (resolve) => child.once('exit', () => resolve(Number(out))),
      ),
    );
  }
  return times.sort((a, b) => a - b)[2] ?? Number.NaN;
}

/** @param {BenchContext} ctx */
export async function scale(ctx) {
  const { log, row } = ctx;
  const SCALE = Number(process.env.BENCH_SCALE_SESSIONS ?? 1_000_000);
  const scaleLabel = SCALE.toLocaleString('en-US');
  /** @type {Record<number, { rps: number, rss: number, bytes: number, openMs: number }>} */
  const figures = {};
  for (const count of [1_000, SCALE]) {
    log(`scale: seeding ${count} sessions`);
    const dataDir = join(ctx.work, `scale-${count}`);
    const token = await fillSessions(ctx, dataDir, count);
    const bytes = await databaseBytes(dataDir);
    const openMs = await openTime(dataDir);
    const running = await startServer(ctx, dataDir);
    log(`scale: GET /me with ${count} sessions for ${SECONDS} s`);
    const result = await meLoad(running.url, token);
    const rss = await residentBytes(running.pid);
    figures[count] = { rps: result.requests.average, rss, bytes, openMs };
    await running.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const small = figures[1_000];
  const big = figures[SCALE];
  if (!small || !big) throw new Error('scale: a run left no figures');
  const scaleRatio = big.rps / small.rps;
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
    (big.bytes - small.bytes) / (SCALE - 1_000),
    'B',
    '-',
    '-',
  );
  row('scale: GET /me with 1k sessions', small.rps, 'req/s', '-', '-');
  row(
    `scale: GET /me with ${scaleLabel} sessions`,
    big.rps,
    'req/s',
    'no fall (>= 0.9 x 1k)',
    scaleRatio >= 0.9,
  );
}
