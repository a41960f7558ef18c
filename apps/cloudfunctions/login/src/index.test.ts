import { afterEach, describe, expect, it } from 'vitest';
import { setCaller, useCloudHarness } from '../../shared/test-support/harness.js';

const harness = useCloudHarness();
afterEach(() => setCaller(undefined));

describe('cloud function login (built index.js, wx-server-sdk stand-in)', () => {
  it('creates the user WeChat identified, then finds the same one', async () => {
    const main = await harness.load('login');
    setCaller({ openid: 'oCloudLogin0000000000000001', unionid: 'union-cloud-1' });
    const first = await main({}, {});
    expect(first).toMatchObject({
      ok: true,
      isNewUser: true,
      user: { id: expect.any(String) as string },
    });
    const second = await main({}, {});
    expect(second).toMatchObject({
      ok: true,
      isNewUser: false,
      user: { id: (first.user as { id: string }).id },
    });
    expect(JSON.stringify(second)).not.toContain('oCloudLogin');
  });

  it('answers unauthorized when called without a WeChat caller', async () => {
    const main = await harness.load('login');
    setCaller(undefined);
    expect(await main({}, {})).toEqual({
      ok: false,
      error: {
        code: 'unauthorized',
        message: 'no caller identity: call this function from the mini-program',
      },
    });
  });

  it('answers store_unavailable when no database is configured', async () => {
    const main = await harness.load('login');
    setCaller({ openid: 'oCloudLogin0000000000000002' });
    const saved = process.env.WXLOGIN_DATA_DIR;
    delete process.env.WXLOGIN_DATA_DIR;
    try {
      expect(await main({}, {})).toMatchObject({ ok: false, error: { code: 'store_unavailable' } });
    } finally {
      process.env.WXLOGIN_DATA_DIR = saved;
    }
  });
});
