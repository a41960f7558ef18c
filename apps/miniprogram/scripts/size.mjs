#!/usr/bin/env node
// Prints the size of the mini-program main package (everything under miniprogramRoot, which is
// what DevTools uploads; the TypeScript plugin compiles .ts to .js of about the same size).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../miniprogram', import.meta.url));

async function sizeOf(dir) {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await sizeOf(path) : (await stat(path)).size;
  }
  return total;
}

/** Bytes of the main package. */
export function mainPackageBytes() {
  return sizeOf(root);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await mainPackageBytes();
  process.stdout.write(
    `mini-program main package: ${(bytes / 1024).toFixed(1)} KiB (target < 200 KiB)\n`,
  );
}
