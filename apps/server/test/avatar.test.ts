import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../src/envelope.js';
import { useStack } from './support/stack.js';

const stack = useStack();

/** Real images, made by sharp: the server decodes and re-encodes every avatar. */
const PNG = new Uint8Array(
  await sharp({
    create: { width: 40, height: 30, channels: 4, background: { r: 0, g: 128, b: 0, alpha: 0.5 } },
  })
    .png()
    .toBuffer(),
);
const JPEG = new Uint8Array(
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c00' } })
    .jpeg()
    .toBuffer(),
);

const upload = (
  token: string | undefined,
  parts: { bytes: Uint8Array; type: string; name?: string }[],
) => stack.uploadAvatar(token, parts);

describe('POST /avatar', () => {
  it('stores an image and serves it back at a stable URL that /userinfo accepts', async () => {
    const { token } = await stack.login();
    const answer = await upload(token, [{ bytes: PNG, type: 'image/png' }]);
    expect(answer.status).toBe(200);
    const url = answer.body.avatarUrl ?? '';
    expect(url).toMatch(new RegExp(`^${stack.server.url}/avatars/[\\w-]{22}$`));
    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toContain('immutable');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    const stored = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
    expect(stored).toMatchObject({ format: 'png', width: 40, height: 30, hasAlpha: true });
    const saved = await stack.api('POST', '/userinfo', { token, body: { avatarUrl: url } });
    expect((saved.body.user as { avatarUrl: string }).avatarUrl).toBe(url);
  });

  it('keeps the type it read from the bytes, not the one declared', async () => {
    const { token } = await stack.login();
    const answer = await upload(token, [{ bytes: JPEG, type: 'image/png' }]);
    const served = await fetch(answer.body.avatarUrl ?? '');
    expect(served.headers.get('content-type')).toBe('image/jpeg');
  });

  it.each([
    [
      'a text file',
      [{ bytes: new TextEncoder().encode('hello'), type: 'text/plain', name: 'a.txt' }],
    ],
    [
      'an "image" that is not one',
      [{ bytes: new TextEncoder().encode('<svg onload=alert(1)>'), type: 'image/png' }],
    ],
    [
      'a file over 2 MiB',
      [{ bytes: new Uint8Array(2 * 1024 * 1024 + 1).fill(0xff), type: 'image/jpeg' }],
    ],
    [
      'two files',
      [
        { bytes: PNG, type: 'image/png' },
        { bytes: PNG, type: 'image/png' },
      ],
    ],
    ['no file', []],
  ])('answers bad_request for %s', async (_name, parts) => {
    const { token } = await stack.login();
    const answer = await upload(token, parts);
    expect(answer.body.error?.code).toBe('bad_request');
    expect(answer.status).toBe(HTTP_STATUS.bad_request);
  });

  it('answers bad_request for a JSON body and unauthorized without a token', async () => {
    const { token } = await stack.login();
    expect(
      (await stack.api('POST', '/avatar', { token, body: { avatar: 'x' } })).body.error?.code,
    ).toBe('bad_request');
    expect((await upload(undefined, [{ bytes: PNG, type: 'image/png' }])).body.error?.code).toBe(
      'unauthorized',
    );
  });

  it('re-encodes: EXIF (GPS included) is gone, and a large photo is resized to avatar size', async () => {
    const { token } = await stack.login();
    const photo = await sharp({
      create: { width: 2000, height: 1500, channels: 3, background: '#345' },
    })
      .jpeg()
      .withExif({
        IFD0: { ImageDescription: 'EXIF-MARKER-IN-UPLOAD' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '39/1 54/1 0/1' },
      })
      .toBuffer();
    expect(photo.includes('EXIF-MARKER-IN-UPLOAD')).toBe(true);
    const answer = await upload(token, [{ bytes: new Uint8Array(photo), type: 'image/jpeg' }]);
    expect(answer.status).toBe(200);
    const served = Buffer.from(await (await fetch(answer.body.avatarUrl ?? '')).arrayBuffer());
    expect(served.includes('EXIF-MARKER-IN-UPLOAD')).toBe(false);
    const stored = await sharp(served).metadata();
    expect(stored).toMatchObject({ format: 'jpeg', width: 512, height: 384 });
    expect(stored.exif).toBeUndefined();
  });

  it.each([
    ['GIF+HTML', 'gif', '<html><script>alert(document.cookie)</script></html>'],
    ['PNG+SVG', 'png', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
  ])('strips a %s polyglot down to a plain image', async (_name, format, payload) => {
    const { token } = await stack.login();
    const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .toFormat(format as 'gif' | 'png')
      .toBuffer();
    const polyglot = Buffer.concat([image, Buffer.from(payload)]);
    const answer = await upload(token, [
      { bytes: new Uint8Array(polyglot), type: `image/${format}` },
    ]);
    expect(answer.status).toBe(200);
    const served = Buffer.from(await (await fetch(answer.body.avatarUrl ?? '')).arrayBuffer());
    expect(served.includes(payload)).toBe(false);
    expect(served.includes('<svg')).toBe(false);
    expect(served.includes('<html')).toBe(false);
    expect((await sharp(served).metadata()).format).toMatch(/^(png|jpeg)$/);
  });

  it('refuses a real image of more than 40 million pixels (7000×7000)', async () => {
    const { token } = await stack.login();
    // Below sharp's own default bound (268 million pixels): only ours refuses it.
    const large = await sharp({
      create: { width: 7000, height: 7000, channels: 3, background: '#fff' },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(large.length).toBeLessThan(2 * 1024 * 1024);
    const answer = await upload(token, [{ bytes: new Uint8Array(large), type: 'image/png' }]);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('bad_request');
  });

  it("refuses another user's upload as the profile avatar", async () => {
    const alice = await stack.login();
    const mallory = await stack.login();
    const uploaded = await upload(alice.token, [{ bytes: PNG, type: 'image/png' }]);
    const taken = await stack.api('POST', '/userinfo', {
      token: mallory.token,
      body: { avatarUrl: uploaded.body.avatarUrl },
    });
    expect(taken.status).toBe(400);
    expect(taken.body.error?.message).toContain("another user's upload");
  });

  it('refuses a PNG claiming 60000×60000 pixels from its header, without decoding it', async () => {
    const { token } = await stack.login();
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const out = Buffer.alloc(8 + data.length + 4);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body), 8 + data.length);
      return out;
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(60_000, 0);
    ihdr.writeUInt32BE(60_000, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const bomb = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(1024))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    const answer = await upload(token, [{ bytes: new Uint8Array(bomb), type: 'image/png' }]);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('bad_request');
  });

  it('builds the avatar URL from PUBLIC_URL, never from the Host header', async () => {
    const { token } = await stack.login();
    const form = new FormData();
    form.append('file', new Blob([PNG], { type: 'image/png' }), 'a.png');
    const body = new Response(form);
    const raw = Buffer.from(await body.arrayBuffer());
    const answer = await new Promise<{ avatarUrl?: string }>((resolve, reject) => {
      const req = request(
        `${stack.server.url}/avatar`,
        {
          method: 'POST',
          headers: {
            host: 'evil.example',
            'x-forwarded-host': 'evil.example',
            'x-forwarded-proto': 'https',
            authorization: `Bearer ${token}`,
            'content-type': body.headers.get('content-type') ?? '',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(JSON.parse(text) as { avatarUrl?: string }));
        },
      );
      req.on('error', reject);
      req.end(raw);
    });
    expect(answer.avatarUrl).toMatch(new RegExp(`^${stack.server.url}/avatars/[\\w-]{22}$`));
  });

  it('keeps the profile avatar and the newest uploads, and deletes the rest', async () => {
    const { token } = await stack.login();
    const urls: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const answer = await upload(token, [{ bytes: PNG, type: 'image/png' }]);
      expect(answer.status).toBe(200);
      urls.push(answer.body.avatarUrl ?? '');
      // The first upload becomes the profile's avatar.
      if (i === 0)
        expect(
          (await stack.api('POST', '/userinfo', { token, body: { avatarUrl: urls[0] } })).status,
        ).toBe(200);
    }
    const statuses = await Promise.all(urls.map(async (url) => (await fetch(url)).status));
    // The newest upload, AVATAR_HISTORY (3) before it, and the profile's one: upload 1 is gone.
    expect(statuses).toEqual([200, 404, 200, 200, 200, 200]);
  });

  it('leaves no temporary file behind, and sweeps stale ones at start-up', async () => {
    const { server, dataDir } = await stack.extraServer({});
    const avatars = join(dataDir, 'avatars');
    await mkdir(avatars, { recursive: true });
    const stale = join(avatars, 'CrashedUploadCrashedUp.png.x.tmp');
    await writeFile(stale, 'half an image');
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(stale, old, old);
    await server.stop();
    const { server: again } = await stack.extraServer({ DATA_DIR: dataDir });
    expect(await again.waitForOutput('removed 1 unfinished')).toContain(
      'removed 1 unfinished avatar file(s)',
    );
    expect((await readdir(avatars)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('answers not_found for an unknown or malformed avatar id', async () => {
    expect((await stack.api('GET', '/avatars/NoSuchAvatarNoSuchAvat')).status).toBe(404);
    expect((await stack.api('GET', '/avatars/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
  });
});
