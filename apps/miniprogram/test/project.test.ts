/** The DevTools project is complete: config, every page and component with its four files. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const json = async (path: string) =>
  JSON.parse(await readFile(join(root, path), 'utf8')) as Record<string, unknown>;
const exists = (path: string) =>
  stat(join(root, path)).then(
    () => true,
    () => false,
  );

describe('WeChat DevTools project', () => {
  it('is a TypeScript mini-program whose cloud functions are the built ones', async () => {
    const project = await json('project.config.json');
    expect(project).toMatchObject({
      compileType: 'miniprogram',
      miniprogramRoot: 'miniprogram/',
      cloudfunctionRoot: 'cloudfunctions/',
      setting: { useCompilerPlugins: ['typescript'], urlCheck: false },
    });
    expect(await exists('miniprogram/sitemap.json')).toBe(true);
    for (const file of ['app.ts', 'app.json', 'app.wxss'])
      expect(await exists(`miniprogram/${file}`)).toBe(true);
  });

  it('has every page of app.json, and every component they use, with .ts/.wxml/.wxss/.json', async () => {
    const app = await json('miniprogram/app.json');
    const pages = app.pages as string[];
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const components = new Set<string>();
    for (const page of pages) {
      for (const ext of ['ts', 'wxml', 'wxss', 'json'])
        expect(await exists(`miniprogram/${page}.${ext}`), `${page}.${ext}`).toBe(true);
      const using = ((await json(`miniprogram/${page}.json`)).usingComponents ?? {}) as Record<
        string,
        string
      >;
      for (const path of Object.values(using)) components.add(path.replace(/^\//, ''));
    }
    for (const component of components) {
      for (const ext of ['ts', 'wxml', 'wxss', 'json'])
        expect(await exists(`miniprogram/${component}.${ext}`), `${component}.${ext}`).toBe(true);
      expect((await json(`miniprogram/${component}.json`)).component).toBe(true);
    }
  });

  it('keeps the main package under 200 KiB', async () => {
    const { mainPackageBytes } = await import('../scripts/size.mjs');
    expect(await mainPackageBytes()).toBeLessThan(200 * 1024);
  });
});
