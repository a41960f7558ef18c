// @ts-check
// What the scenarios share: the settings of a run, the context run.mjs hands each scenario, the
// processes under test, and the closed-loop load (autocannon) that drives them.
/* global fetch, process -- Node's globals: the eslint config declares none for .mjs */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { folderBytes, spawnUntilListening } from '@wxlogin/test-kit';
import autocannon from 'autocannon';

/** @import { ListeningProcess } from '@wxlogin/test-kit' */
/** @import { EmulatorProcess } from '@wxlogin/wechat-emulator' */
/** @import { Options, Result } from 'autocannon' */

/** The bench's folder: floor.mjs is here, and a child that imports the core runs from here. */
export const benchDir = dirname(fileURLToPath(import.meta.url));
export const root = join(benchDir, '..', '..', '..');
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CONNECTIONS = 32;
/** Users whose codes are minted before a login load, 100 each. */
export const CODE_USERS = Number(process.env.BENCH_CODE_USERS ?? 400);
// Bench-only credentials, known only to the emulator run.mjs starts.
export const APP = { appid: 'wx0000000000bench0', secret: 'bench-emulator-secret' };

/**
 * The server's limits during the bench, printed with the figures: all load comes from one address,
 * so the per-address login limit is off; the phone scenario binds 50 phones per user (it measures
 * access-token sharing, not a user's budget), so the per-user phone limit is off. Every other
 * limit keeps its default.
 */
export const BENCH_LIMITS = { LOGIN_LIMIT_PER_MINUTE: '0', PHONE_LIMIT_PER_HOUR: '0' };

/** @param {string} line */
export const log = (line) => {
  process.stderr.write(`bench: ${line}\n`);
};

/**
 * One line of the table and of results.json.
 * @typedef {object} Row
 * @property {string} figure
 * @property {number} value
 * @property {string} unit
 * @property {string} target
 * @property {boolean | string} met A verdict, '-' where there is no target, or why there is none.
 */

/**
 * What run.mjs hands each scenario. A scenario records its rows in the order they are printed.
 * @typedef {object} BenchContext
 * @property {EmulatorProcess} emulator The WeChat stand-in every process under test talks to.
 * @property {string} work A folder for the scenarios' data dirs, removed after the run.
 * @property {{ appid: string, secret: string }} app The app the emulator knows.
 * @property {(figure: string, value: number, unit: string, target: string, met: Row['met']) => void} row
 *   Records a row of the table.
 * @property {(line: string) => void} log A progress line on stderr.
 */

/**
 * A node process of the bench (server, floor), started on a free port, its output drained.
 * @param {[string, ...string[]]} args
 * @param {Record<string, string>} [env]
 * @returns {Promise<ListeningProcess>}
 */
export function startProcess(args, env = {}) {
  return spawnUntilListening({
    name: args[0],
    args,
    env: { PATH: process.env.PATH, ...env },
    keepOutput: false,
  });
}

/**
 * The server with its embedded store in `dataDir`, talking to the emulator.
 * @param {BenchContext} ctx
 * @param {string} dataDir
 */
export function startServer({ app, emulator }, dataDir) {
  return startProcess([join(root, 'apps/server/bin/wxlogin-server.js')], {
    WECHAT_APPID: app.appid,
    WECHAT_SECRET: app.secret,
    WECHAT_API_ORIGIN: emulator.url,
    DATA_DIR: dataDir,
    PORT: '0',
    LOG_LEVEL: 'warn',
    ...BENCH_LIMITS,
  });
}

/**
 * Codes minted before the clock starts: `users` users × 100 (WeChat's per-user minute limit).
 * @param {BenchContext} ctx
 * @param {number} users
 */
export async function mintCodePool({ emulator, app }, users) {
  /** @type {string[]} */
  const pool = [];
  for (let i = 0; i < users; i += 1) {
    const minted = await emulator.control.mintLoginCodes({ appid: app.appid, count: 100 });
    pool.push(...minted.codes);
  }
  return pool;
}

/**
 * A closed-loop load of CONNECTIONS connections for SECONDS, its progress not printed.
 * @param {Options} options
 * @returns {Promise<Result>}
 */
export function load(options) {
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

/**
 * POST /login, each request with the next code of the pool.
 * @param {BenchContext} ctx
 * @param {string} url
 * @param {string[]} pool
 */
export async function loginLoad({ log }, url, pool) {
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

/**
 * GET /me with one session token.
 * @param {string} url
 * @param {string} token
 */
export function meLoad(url, token) {
  return load({ url: `${url}/me`, headers: { authorization: `Bearer ${token}` } });
}

/**
 * A JSON POST, with a session token when given.
 * @param {string} url
 * @param {unknown} body
 * @param {string} [token]
 */
export function postJson(url, body, token) {
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

/**
 * POST /login with one code; the session token it answers with.
 * @param {string} url
 * @param {string} code
 * @returns {Promise<string>}
 */
export async function login(url, code) {
  const answer = /** @type {{ token: string }} */ (
    await (await postJson(`${url}/login`, { code })).json()
  );
  return answer.token;
}

/**
 * A wx.login on a phone and the POST /login that follows: a new user, or the one with `openid`.
 * @param {BenchContext} ctx
 * @param {string} url
 * @param {{ openid?: string }} [user]
 */
export async function loginOnce({ emulator, app }, url, user = {}) {
  const { code } = await emulator.control.mintLoginCode({ appid: app.appid, ...user });
  return login(url, code);
}

/**
 * Bytes of a folder as shipped: its node_modules (wx-server-sdk, installed in the cloud) left out.
 * @param {string} dir
 */
export const shippedBytes = (dir) => folderBytes(dir, { skip: 'node_modules' });
