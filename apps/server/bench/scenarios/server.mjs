// @ts-check
// The server with its embedded store under load: POST /login, then GET /me with one token,
// each read against the floor.
import { join } from 'node:path';
import {
  CODE_USERS,
  SECONDS,
  loginLoad,
  loginOnce,
  meLoad,
  mintCodePool,
  startServer,
} from '../support.mjs';

/** @import { BenchContext } from '../support.mjs' */
/** @import { FloorFigures } from './floor.mjs' */

/**
 * @param {BenchContext} ctx
 * @param {FloorFigures} floor
 */
export async function server(ctx, floor) {
  const { log, row } = ctx;
  log('starting the server (embedded store)');
  const running = await startServer(ctx, join(ctx.work, 'main'));
  const pool = await mintCodePool(ctx, CODE_USERS);
  log(`server: POST /login for ${SECONDS} s`);
  const login = await loginLoad(ctx, running.url, pool);
  const token = await loginOnce(ctx, running.url);
  log(`server: GET /me for ${SECONDS} s`);
  const me = await meLoad(running.url, token);
  await running.stop();

  const loginRatio = login.requests.average / floor.login;
  row('floor POST /login', floor.login, 'req/s', '-', '-');
  row('server POST /login', login.requests.average, 'req/s', '>= 0.6 x floor', loginRatio >= 0.6);
  row('server POST /login / floor', loginRatio, 'x', '>= 0.6', loginRatio >= 0.6);
  row('server POST /login p99', login.latency.p99, 'ms', '< 50 ms', login.latency.p99 < 50);
  row(
    'server POST /login errors',
    login.non2xx + login.errors,
    'count',
    '0',
    login.non2xx + login.errors === 0,
  );
  const meRatio = me.requests.average / floor.me;
  row('floor GET /me', floor.me, 'req/s', '-', '-');
  row('server GET /me', me.requests.average, 'req/s', '>= 0.8 x floor', meRatio >= 0.8);
  row('server GET /me / floor', meRatio, 'x', '>= 0.8', meRatio >= 0.8);
}
