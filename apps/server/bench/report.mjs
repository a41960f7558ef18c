// @ts-check
// The table on stdout and the same rows in .bench/results.json, with the machine they came from.
/* global process -- Node's globals: the eslint config declares none for .mjs */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { BENCH_LIMITS, CONNECTIONS, SECONDS, root } from './support.mjs';

/** @import { Row } from './support.mjs' */

/**
 * @param {number} n
 * @param {number} [digits]
 */
const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

const widths = [64, 12, 10, 24, 6];
/** @param {unknown[]} cells */
const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i] ?? 10)).join(' ');

/**
 * Prints the rows and writes them to .bench/results.json.
 * @param {readonly Row[]} rows
 */
export async function report(rows) {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
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
}
