/**
 * The cloud storage stand-in (wx-server-sdk/storage.js) against what the docs say of
 * getTempFileURL and deleteFile: per-file answers, 1 to 50 IDs, links that download the file
 * until it is deleted or maxAge runs out.
 */
import { cp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@wxlogin/test-kit';
import type * as Sdk from 'wx-server-sdk';
import { describe, expect, it, vi } from 'vitest';

interface StandinFiles {
  put(fileID: string, bytes: Uint8Array, contentType?: string): void;
  has(fileID: string): boolean;
}

type Standin = typeof Sdk & { __standin: { files: StandinFiles } };

const index = fileURLToPath(new URL('./wx-server-sdk/index.js', import.meta.url));
const sdk = createRequire(index)(index) as Standin;
sdk.init({ env: sdk.DYNAMIC_CURRENT_ENV });

const file = (name: string) => `cloud://env-1.7465-env-1-1250000000/avatars/${name}`;

describe('wx-server-sdk stand-in: cloud storage', () => {
  it('rejects both calls before init(), as every cloud API does', async () => {
    // A copy of its own: this file's stand-in is initialised above.
    const dir = await tempDir('standin-storage');
    try {
      await cp(dirname(index), dir.path, { recursive: true });
      const fresh = createRequire(join(dir.path, 'index.js'))(
        join(dir.path, 'index.js'),
      ) as Standin;
      for (const call of [
        () => fresh.getTempFileURL({ fileList: [file('a.png')] }),
        () => fresh.deleteFile({ fileList: [file('a.png')] }),
      ])
        await expect(call()).rejects.toMatchObject({
          errCode: -1,
          errMsg: expect.stringMatching(/please call init first$/) as unknown,
        });
    } finally {
      await dir.remove();
    }
  });

  it('answers each file on its own; a link downloads the file until it is deleted', async () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    sdk.__standin.files.put(file('a.png'), bytes);
    const { fileList } = await sdk.getTempFileURL({
      fileList: [file('a.png'), { fileID: file('missing.png'), maxAge: 60 }],
    });
    expect(fileList[0]).toMatchObject({ fileID: file('a.png'), status: 0, errMsg: 'ok' });
    expect(fileList[1]).toMatchObject({ fileID: file('missing.png'), tempFileURL: '' });
    expect(fileList[1]?.status).not.toBe(0);
    const url = fileList[0]?.tempFileURL ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/avatars\/a\.png\?sign=/);
    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
    // A forged sign downloads nothing.
    expect((await fetch(url.replace(/sign=[0-9a-f]+/, 'sign=00'))).status).toBe(404);

    const deleted = await sdk.deleteFile({ fileList: [file('a.png'), 'https://x/y.png'] });
    expect(deleted.fileList.map((f) => f.status)).toEqual([0, -503003]);
    expect(sdk.__standin.files.has(file('a.png'))).toBe(false);
    expect((await fetch(url)).status).toBe(404);
  });

  it('expires a link after its maxAge (at most a day)', async () => {
    sdk.__standin.files.put(file('b.png'), new Uint8Array([9]));
    const { fileList } = await sdk.getTempFileURL({
      fileList: [{ fileID: file('b.png'), maxAge: 10 * 86_400 }],
    });
    const url = fileList[0]?.tempFileURL ?? '';
    expect((await fetch(url)).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 86_400_000 + 1000);
      expect((await fetch(url)).status).toBe(404);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an empty list or more than 50 IDs', async () => {
    await expect(sdk.getTempFileURL({ fileList: [] })).rejects.toMatchObject({ errCode: -501007 });
    const many = Array.from({ length: 51 }, (_, i) => file(`${i}.png`));
    await expect(sdk.getTempFileURL({ fileList: many })).rejects.toMatchObject({
      errCode: -501007,
    });
    await expect(sdk.deleteFile({ fileList: many })).rejects.toMatchObject({ errCode: -501007 });
  });
});
