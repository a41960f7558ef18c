// @ts-check
// 1,000 concurrent POST /phone on a fresh server must share one access token fetch: the broker
// asks WeChat once and every waiting call uses the answer.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { login, postJson, startServer } from '../support.mjs';

/** @import { BenchContext } from '../support.mjs' */

/** @param {BenchContext} ctx */
export async function phone(ctx) {
  const { emulator, app, log, row } = ctx;
  const { control } = emulator;
  log('phone: 1,000 concurrent POST /phone on a fresh server');
  const running = await startServer(ctx, join(ctx.work, 'phone'));
  // 20 users of 50 sessions each (the per-user phone limit is off for the bench).
  const tokens = [];
  for (let i = 0; i < 20; i += 1) {
    const minted = await control.mintLoginCodes({ appid: app.appid, count: 50 });
    for (const code of minted.codes) tokens.push(await login(running.url, code));
  }
  const { codes } = await control.mintPhoneCodes({ appid: app.appid, count: 1000 });
  const stableBefore = await control.callCount('/cgi-bin/stable_token');
  const started = performance.now();
  const statuses = await Promise.all(
    tokens.map((token, i) =>
      postJson(`${running.url}/phone`, { code: codes[i] }, token).then((r) => r.status),
    ),
  );
  const ms = performance.now() - started;
  const stableCalls = (await control.callCount('/cgi-bin/stable_token')) - stableBefore;
  await running.stop();
  const ok = statuses.filter((s) => s === 200).length;
  row(
    'phone: upstream stable_token calls for 1,000 concurrent POST /phone',
    stableCalls,
    'calls',
    '1',
    stableCalls === 1,
  );
  row('phone: 1,000 concurrent POST /phone answered 200', ok, 'of 1000', '1000', ok === 1000);
  row('phone: wall time for the 1,000', ms, 'ms', '-', '-');
}
