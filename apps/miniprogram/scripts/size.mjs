#!/usr/bin/env node
// Prints the size of the mini-program main package (everything under miniprogramRoot, which is
// what DevTools uploads; the TypeScript plugin compiles .ts to .js of about the same size).
import { fileURLToPath } from 'node:url';
import { folderBytes } from '@wxlogin/test-kit';

const root = fileURLToPath(new URL('../miniprogram', import.meta.url));

/** Bytes of the main package. */
export function mainPackageBytes() {
  return folderBytes(root);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await mainPackageBytes();
  process.stdout.write(
    `mini-program main package: ${(bytes / 1024).toFixed(1)} KiB (target < 200 KiB)\n`,
  );
}
