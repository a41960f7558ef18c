/**
 * DevTools mode (--devtools-app): WeChat DevTools without an appid answers wx.login with the
 * literal "the code is a mock one"; with a real appid it hands out codes only WeChat can exchange.
 * For an app in this mode the emulator logs such codes in as one local user; minted codes keep
 * their rules, and apps not in the mode refuse unknown codes as WeChat does (40029).
 */
import { describe, expect, it } from 'vitest';
import { useEmulatorProcess } from './test-support/process.js';
import { DEVTOOLS_MOCK_CODE, devtoolsOpenid } from './state.js';

const DEV = { appid: 'wx0000000devtools1', secret: 'devtools-only-secret' };
const STRICT = { appid: 'wx00000000strict01', secret: 'strict-only-secret' };
const current = useEmulatorProcess({ apps: [DEV, STRICT], devtoolsApps: [DEV.appid] });

async function exchange(app: { appid: string; secret: string }, code: string) {
  const url = new URL('/sns/jscode2session', current().url);
  url.search = new URLSearchParams({
    appid: app.appid,
    secret: app.secret,
    js_code: code,
    grant_type: 'authorization_code',
  }).toString();
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

describe('DevTools mode', () => {
  it('logs the tourist mock code and unknown codes in as one stable user per app', async () => {
    const first = await exchange(DEV, DEVTOOLS_MOCK_CODE);
    const second = await exchange(DEV, DEVTOOLS_MOCK_CODE);
    const real = await exchange(DEV, '0a3Xyz000abcDEF1GhI2jk3LmN4oP5qR');
    expect(first.openid).toBe(devtoolsOpenid(DEV.appid));
    expect(second.openid).toBe(first.openid);
    expect(real.openid).toBe(first.openid);
    // wx.login gives a fresh session_key each time.
    expect(second.session_key).not.toBe(first.session_key);
    expect(String(first.openid)).toHaveLength(28);
  });

  it('keeps minted codes single-use and expiring', async () => {
    const minted = await current().control.mintLoginCode({ appid: DEV.appid });
    expect((await exchange(DEV, minted.code)).openid).toBe(minted.openid);
    expect(await exchange(DEV, minted.code)).toMatchObject({ errcode: 40163 });
    const later = await current().control.mintLoginCode({ appid: DEV.appid });
    await current().control.advanceClock(5 * 60 + 1);
    expect(await exchange(DEV, later.code)).toMatchObject({ errcode: 40029 });
  });

  it('refuses unknown codes, the mock code included, for an app not in the mode', async () => {
    expect(await exchange(STRICT, DEVTOOLS_MOCK_CODE)).toMatchObject({ errcode: 40029 });
    expect(await exchange(STRICT, 'never-minted')).toMatchObject({ errcode: 40029 });
  });

  it("applies WeChat's minute quota to the local user too", async () => {
    for (let i = 0; i < 100; i += 1) await exchange(DEV, DEVTOOLS_MOCK_CODE);
    expect(await exchange(DEV, DEVTOOLS_MOCK_CODE)).toMatchObject({ errcode: 45011 });
  });
});
