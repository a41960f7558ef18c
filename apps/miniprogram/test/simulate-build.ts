/**
 * Builds miniprogram/ for miniprogram-simulate: TypeScript compiled to CommonJS (what DevTools'
 * TypeScript plugin produces), next to the .wxml/.wxss/.json files, in a temporary folder.
 */
import { tempDir } from '@wxlogin/test-kit';
import { spawn } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// From the string: in a jsdom environment the global URL is jsdom's, which fileURLToPath refuses.
const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const TSC = createRequire(join(projectRoot, 'package.json')).resolve('typescript/bin/tsc');

export async function buildForSimulate(): Promise<string> {
  const out = (await tempDir('simulate')).path;
  await cp(join(projectRoot, 'miniprogram'), out, {
    recursive: true,
    filter: (source) => !source.endsWith('.ts') || source.endsWith('.d.ts'),
  });
  const args = [
    '-p',
    'tsconfig.app.json',
    '--outDir',
    out,
    '--module',
    'commonjs',
    '--moduleResolution',
    'node10',
    '--verbatimModuleSyntax',
    'false',
    '--noCheck',
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [TSC, ...args], {
      cwd: projectRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tsc exited ${code}`)),
    );
  });
  return out;
}
