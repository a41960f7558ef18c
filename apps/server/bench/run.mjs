#!/usr/bin/env node
// @ts-check
// npm run bench: one run, one machine. Starts the emulator, the server (embedded store) and a bare
// node:http floor server, each its own process, drives them with the same closed-loop load
// (autocannon, 32 connections), and prints figure / target / met, also written to .bench/.
// BENCH_SECONDS (default 10) sets the length of each load run. The scenarios are in scenarios/,
// run in the order their rows are printed; what they share is in support.mjs.
import { tempDir } from '@wxlogin/test-kit';
import { startEmulatorProcess } from '@wxlogin/wechat-emulator';
import { report } from './report.mjs';
import { coldStart } from './scenarios/cold-start.mjs';
import { floor } from './scenarios/floor.mjs';
import { phone } from './scenarios/phone.mjs';
import { scale } from './scenarios/scale.mjs';
import { server } from './scenarios/server.mjs';
import { sizes } from './scenarios/sizes.mjs';
import { APP, log } from './support.mjs';

/** @import { BenchContext, Row } from './support.mjs' */

/** @type {Row[]} */
const rows = [];
const work = await tempDir('bench');
const emulator = await startEmulatorProcess({ apps: [APP] });
/** @type {BenchContext} */
const ctx = {
  emulator,
  work: work.path,
  app: APP,
  row: (figure, value, unit, target, met) => {
    rows.push({ figure, value, unit, target, met });
  },
  log,
};
try {
  const floorFigures = await floor(ctx);
  await server(ctx, floorFigures);
  await phone(ctx);
  await scale(ctx);
  await coldStart(ctx);
  await sizes(ctx);
} finally {
  await emulator.stop();
  await work.remove();
}
await report(rows);
