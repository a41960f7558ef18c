// @ts-check
// The floor: a bare node:http server (../floor.mjs) under the same load as the server, so the
// server's figures can be read against what no real backend can beat on this machine.
import { join } from 'node:path';
import {
  CODE_USERS,
  SECONDS,
  benchDir,
  loginLoad,
  meLoad,
  mintCodePool,
  startProcess,
} from '../support.mjs';

/** @import { BenchContext } from '../support.mjs' */

/**
 * The floor's requests per second, averaged over each run.
 * @typedef {object} FloorFigures
 * @property {number} login POST /login
 * @property {number} me GET /me
 */

/**
 * Records no rows: the server scenario prints each floor figure next to the server's own.
 * @param {BenchContext} ctx
 * @returns {Promise<FloorFigures>}
 */
export async function floor(ctx) {
  const { emulator, app, log } = ctx;
  log('starting the floor server');
  const floorServer = await startProcess([
    join(benchDir, 'floor.mjs'),
    emulator.url,
    app.appid,
    app.secret,
  ]);
  const pool = await mintCodePool(ctx, CODE_USERS);
  log(`floor: POST /login for ${SECONDS} s`);
  const login = await loginLoad(ctx, floorServer.url, pool);
  log(`floor: GET /me for ${SECONDS} s`);
  const me = await meLoad(floorServer.url, 'unused');
  await floorServer.stop();
  return { login: login.requests.average, me: me.requests.average };
}
