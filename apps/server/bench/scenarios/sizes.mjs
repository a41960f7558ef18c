// @ts-check
// The size of the mini-program's main package folder, its node_modules left out.
import { join } from 'node:path';
import { root, shippedBytes } from '../support.mjs';

/** @import { BenchContext } from '../support.mjs' */

/** @param {BenchContext} ctx */
export async function sizes({ row }) {
  const mainPackage = join(root, 'apps/miniprogram/miniprogram');
  const bytes = await shippedBytes(mainPackage).catch(() => Number.NaN);
  row(
    'mini-program main package',
    bytes / 1024,
    'KiB',
    '< 200 KiB',
    Number.isFinite(bytes) ? bytes < 200 * 1024 : 'not built yet',
  );
}
