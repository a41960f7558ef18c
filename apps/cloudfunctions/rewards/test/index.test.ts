import { afterEach, describe, expect, it } from 'vitest';
import { setCaller, useCloudHarness } from '../../shared/test-support/harness.js';

const harness = useCloudHarness();
afterEach(() => setCaller(undefined));

describe('cloud function rewards (built index.js, wx-server-sdk stand-in)', () => {
  it('grants the welcome gift once across two apps of one unionid, then says when', async () => {
    const main = await harness.load('rewards');
    const unionid = `union-cloud-gift-${Date.now()}`;
    setCaller({ openid: 'oCloudRewardAppA00000000001', unionid });
    const first = await main({}, {});
    expect(first).toEqual({ ok: true, granted: true, grantedAt: expect.any(String) as string });
    // The same person in the company's other mini-program.
    setCaller({ openid: 'oCloudRewardAppB00000000001', unionid, appid: 'wx000000000cloudb2' });
    const second = await main({}, {});
    expect(second).toEqual({ ok: true, granted: false, grantedAt: first.grantedAt });
  });

  it('answers unauthorized when called without a WeChat caller', async () => {
    const main = await harness.load('rewards');
    expect(await main({}, {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });
});
