import { afterEach, describe, expect, it } from 'vitest';
import { APP, setCaller, useCloudHarness } from '../../shared/test-support/harness.js';

const harness = useCloudHarness();
afterEach(() => setCaller(undefined));

describe('cloud function phone (built index.js, wx-server-sdk stand-in)', () => {
  it('binds the number behind a button code to the user the login function created', async () => {
    const login = await harness.load('login');
    const phone = await harness.load('phone');
    setCaller({ openid: 'oCloudPhone0000000000000001' });
    const loggedIn = await login({}, {});
    const { codes } = await harness.emulator.control.mintPhoneCodes({
      appid: APP.appid,
      purePhoneNumber: '13900001234',
    });
    const result = await phone({ code: codes[0] }, {});
    expect(result).toMatchObject({
      ok: true,
      user: {
        id: (loggedIn.user as { id: string }).id,
        phone: { purePhoneNumber: '13900001234', countryCode: '86' },
      },
    });
  });

  it('answers invalid_code for a code already used (openapi rejects with errCode 40029)', async () => {
    const phone = await harness.load('phone');
    setCaller({ openid: 'oCloudPhone0000000000000002' });
    const { codes } = await harness.emulator.control.mintPhoneCodes({ appid: APP.appid });
    expect(await phone({ code: codes[0] }, {})).toMatchObject({ ok: true });
    expect(await phone({ code: codes[0] }, {})).toMatchObject({
      ok: false,
      error: { code: 'invalid_code' },
    });
  });

  it('answers wechat_unavailable when WeChat is busy behind the openapi', async () => {
    const phone = await harness.load('phone');
    setCaller({ openid: 'oCloudPhone0000000000000003' });
    const { codes } = await harness.emulator.control.mintPhoneCodes({ appid: APP.appid });
    await harness.emulator.control.injectFault({
      path: '/wxa/business/getuserphonenumber',
      kind: 'errcode',
      errcode: -1,
    });
    expect(await phone({ code: codes[0] }, {})).toMatchObject({
      ok: false,
      error: { code: 'wechat_unavailable' },
    });
  });

  it.each([
    ['no code', {}],
    ['a numeric code', { code: 7 }],
  ])('answers bad_request for %s without calling WeChat', async (_name, event) => {
    const phone = await harness.load('phone');
    setCaller({ openid: 'oCloudPhone0000000000000004' });
    const before = await harness.emulator.control.callCount('/wxa/business/getuserphonenumber');
    expect(await phone(event, {})).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await harness.emulator.control.callCount('/wxa/business/getuserphonenumber')).toBe(
      before,
    );
  });
});
