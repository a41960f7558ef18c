#!/usr/bin/env node
// Bundles one cloud function with wechat-core into a folder WeChat DevTools uploads as is:
// index.js (CommonJS, minified), package.json (depends on wx-server-sdk only) and config.json,
// written under the mini-program's cloudfunctionRoot. Usage: node build.mjs <login|userinfo|phone|rewards|account|mediacheck>
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudfunctionRoot } from './cloudfunction-root.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
if (!['login', 'userinfo', 'phone', 'rewards', 'account', 'mediacheck'].includes(name ?? '')) {
  process.stderr.write('usage: node build.mjs <login|userinfo|phone|rewards|account|mediacheck>\n');
  process.exit(2);
}

// esbuild is a devDependency of each function package: resolve it from the one being built.
const { build } = createRequire(join(here, name, 'package.json'))('esbuild');
const outDir = join(await cloudfunctionRoot(), name);
await mkdir(outDir, { recursive: true });
await build({
  entryPoints: [join(here, name, 'src', 'index.ts')],
  outfile: join(outDir, 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // wx-server-sdk comes from the cloud's npm install; the rest are optional add-ons of the
  // mongodb driver, which it loads only when configured (Kerberos, AWS auth, compression...).
  external: [
    'wx-server-sdk',
    'kerberos',
    '@mongodb-js/zstd',
    '@aws-sdk/credential-providers',
    'gcp-metadata',
    'snappy',
    'socks',
    'aws4',
    'mongodb-client-encryption',
  ],
});
await writeFile(
  join(outDir, 'package.json'),
  `${JSON.stringify({ name, version: '0.1.0', private: true, main: 'index.js', dependencies: { 'wx-server-sdk': '~4.0.2' } }, null, 2)}\n`,
);
await copyFile(join(here, name, 'config.json'), join(outDir, 'config.json'));
const size = (await stat(join(outDir, 'index.js'))).size;
process.stdout.write(
  `cloud function ${name}: ${outDir} (index.js ${(size / 1024).toFixed(0)} KiB)\n`,
);
