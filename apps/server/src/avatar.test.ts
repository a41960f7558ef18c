import { describe, expect, it } from 'vitest';
import { HTTP_STATUS } from './app.js';
import { useStack } from './test-support/stack.js';

const stack = useStack();

const PNG = Uint8Array.from([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  ...Array.from({ length: 64 }, () => 7),
]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...Array.from({ length: 64 }, () => 1)]);

async function upload(
  token: string | undefined,
  parts: { bytes: Uint8Array; type: string; name?: string }[],
) {
  const form = new FormData();
  for (const part of parts)
    form.append('file', new Blob([part.bytes], { type: part.type }), part.name ?? 'tmp.png');
  const response = await fetch(`${stack.server.url}/avatar`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  return {
    status: response.status,
    body: (await response.json()) as { avatarUrl?: string; error?: { code: string } },
  };
}

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
    expect([...new Uint8Array(await served.arrayBuffer())]).toEqual([...PNG]);
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

  it('answers not_found for an unknown or malformed avatar id', async () => {
    expect((await stack.api('GET', '/avatars/NoSuchAvatarNoSuchAvat')).status).toBe(404);
    expect((await stack.api('GET', '/avatars/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
  });
});
