/** The project compiles offline as DevTools compiles it (miniprogram-ci, TypeScript plugin). */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function compile(): Promise<{ code: number | null; files: string[]; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'compile-check.cjs')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const match = /^COMPILED (.*)$/m.exec(output);
      resolve({ code, files: match?.[1] ? (JSON.parse(match[1]) as string[]) : [], output });
    });
  });
}

describe('miniprogram-ci compile', () => {
  it(
    'compiles every page and component of app.json without error',
    { timeout: 120_000 },
    async () => {
      const result = await compile();
      expect(result.code, result.output).toBe(0);
      const app = JSON.parse(await readFile(join(root, 'miniprogram', 'app.json'), 'utf8')) as {
        pages: string[];
      };
      const targets = [
        ...app.pages,
        'components/user-card/user-card',
        'components/privacy-popup/privacy-popup',
      ];
      for (const target of targets) {
        for (const ext of ['js', 'json', 'wxml', 'wxss'])
          expect(result.files, `${target}.${ext}`).toContain(`${target}.${ext}`);
      }
      expect(result.files).toContain('app.js');
    },
  );
});
