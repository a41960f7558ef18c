import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderBytes, residentBytes } from './measure.js';
import { runUntilExit } from './process.js';
import { tempDir } from './temp-dir.js';

describe('folderBytes', () => {
  it('adds the files of every subfolder and does not follow links', async () => {
    const dir = await tempDir('measure');
    try {
      await mkdir(join(dir.path, 'a', 'b'), { recursive: true });
      await writeFile(join(dir.path, 'one'), 'x'.repeat(10));
      await writeFile(join(dir.path, 'a', 'b', 'two'), 'y'.repeat(32));
      await symlink(join(dir.path, 'a'), join(dir.path, 'loop'));
      expect(await folderBytes(dir.path)).toBe(42);
      // A folder of that name is left out at any depth.
      await mkdir(join(dir.path, 'a', 'node_modules'));
      await writeFile(join(dir.path, 'a', 'node_modules', 'dep'), 'z'.repeat(100));
      expect(await folderBytes(dir.path, { skip: 'node_modules' })).toBe(42);
      expect(await folderBytes(dir.path)).toBe(142);
    } finally {
      await dir.remove();
    }
  });
});

describe('residentBytes', () => {
  it.runIf(process.platform === 'linux')('reads this process, and NaN for none', async () => {
    const own = await residentBytes(process.pid);
    expect(own).toBeGreaterThan(1024 * 1024);
    expect(own % 1024).toBe(0);
    expect(await residentBytes(2 ** 30)).toBeNaN();
  });
});

describe('tempDir', () => {
  it('names the folder after its label and removes it, twice without error', async () => {
    const dir = await tempDir('label');
    expect(dir.path).toMatch(/wxlogin-label-[^/\\]+$/);
    await writeFile(join(dir.path, 'f'), 'z');
    await dir.remove();
    await dir.remove();
    await expect(folderBytes(dir.path)).rejects.toThrow(/ENOENT/);
  });
});

describe('runUntilExit', () => {
  it('answers the exit code and both streams', async () => {
    const run = await runUntilExit({
      env: { PATH: process.env.PATH ?? '' },
      args: ['-e', 'console.log("out"); console.error("err"); process.exit(4)'],
    });
    expect(run.code).toBe(4);
    expect(run.output).toContain('out');
    expect(run.output).toContain('err');
  });

  it('kills a process that does not end in time (code null)', async () => {
    const run = await runUntilExit({
      env: { PATH: process.env.PATH ?? '' },
      args: ['-e', 'console.log("stuck"); setTimeout(() => {}, 60_000)'],
      timeoutMs: 300,
    });
    expect(run.code).toBeNull();
    expect(run.output).toContain('stuck');
  });
});
