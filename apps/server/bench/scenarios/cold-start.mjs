// @ts-check
// The built cloud functions: each folder's size as uploaded, and how long a fresh process takes
// to require its index.js.
/* global process -- Node's globals: the eslint config declares none for .mjs */
import { spawn } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@wxlogin/test-kit';
import { root, shippedBytes } from '../support.mjs';

/** @import { BenchContext } from '../support.mjs' */

const FUNCTIONS = ['login', 'userinfo', 'phone', 'rewards', 'account', 'mediacheck'];

/**
 * Median time to require a built cloud function's index.js in a fresh process, with the
 * wx-server-sdk stand-in where the cloud would install the real one.
 * @param {string} dir
 */
async function requireTime(dir) {
  const standin = join(root, 'apps/cloudfunctions/shared/test-support/wx-server-sdk');
  const copy = await tempDir('bench-cf');
  await cp(dir, copy.path, { recursive: true });
  await cp(standin, join(copy.path, 'node_modules', 'wx-server-sdk'), { recursive: true });
  const times = [];
  for (let i = 0; i < 7; i += 1) {
    const ms = await new Promise(
      /**
       * @param {(ms: number) => void} resolve
       * @param {(error: Error) => void} reject
       */
      (resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            '-e',
            `const t=process.hrtime.bigint();require(${JSON.stringify(join(copy.path, 'index.js'))});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        child.stdout.on('data', (c) => (out += c));
        child.once('exit', (code) =>
          code === 0 ? resolve(Number(out)) : reject(new Error(`require failed (${code})`)),
        );
      },
    );
    times.push(ms);
  }
  await copy.remove();
  return times.sort((a, b) => a - b)[3] ?? Number.NaN;
}

/** @param {BenchContext} ctx */
export async function coldStart({ row }) {
  const cfRoot = join(root, 'apps/miniprogram/cloudfunctions');
  for (const name of FUNCTIONS) {
    const dir = join(cfRoot, name);
    const size = await shippedBytes(dir).catch(() => Number.NaN);
    row(
      `cloud function ${name}: folder size (without wx-server-sdk)`,
      size / 2 ** 20,
      'MiB',
      '< 1 MiB',
      size < 2 ** 20,
    );
    const ms = await requireTime(dir).catch(() => Number.NaN);
    row(
      `cloud function ${name}: require index.js, fresh process (median of 7)`,
      ms,
      'ms',
      '< 150 ms',
      ms < 150,
    );
  }
}
