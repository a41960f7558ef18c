import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppRegistry } from '../../src/apps.js';
import { WechatAuthError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { APP, OTHER_APP, clientFor, useEmulator, useTempDir } from '../support/emulator.js';
import { StableTokenBroker } from '../../src/wechat/token-broker.js';

const emulator = useEmulator();
const temp = useTempDir('broker');
const STABLE = '/cgi-bin/stable_token';
const PHONE = '/wxa/business/getuserphonenumber';

let store: SqliteStore;
let storeCount = 0;

beforeEach(async () => {
  await emulator.current.control.reset();
  storeCount += 1;
  store = await SqliteStore.open({ dataDir: `${temp.path}/store-${storeCount}` });
});

afterEach(async () => {
  await store.close();
});

function broker(now?: () => number): StableTokenBroker {
  return new StableTokenBroker({
    client: clientFor(emulator.current),
    apps: new AppRegistry([APP, OTHER_APP]),
    store: store.accessTokens,
    ...(now ? { now } : {}),
  });
}

async function phoneCode(): Promise<string> {
  const { codes } = await emulator.current.control.mintPhoneCodes({ appid: APP.appid });
  return codes[0] as string;
}

describe('StableTokenBroker', () => {
  it('makes exactly 1 upstream fetch for 200 concurrent callers', async () => {
    const b = broker();
    const tokens = await Promise.all(Array.from({ length: 200 }, () => b.getToken(APP.appid)));
    expect(new Set(tokens).size).toBe(1);
    expect(await emulator.current.control.callCount(STABLE)).toBe(1);
  });

  it('makes exactly 1 upstream fetch for 4 instances sharing one embedded store', async () => {
    const brokers = Array.from({ length: 4 }, () => broker());
    const tokens = await Promise.all(
      brokers.flatMap((b) => Array.from({ length: 25 }, () => b.getToken(APP.appid))),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(await emulator.current.control.callCount(STABLE)).toBe(1);
  });

  it('keeps apps apart: one fetch per appid', async () => {
    const b = broker();
    const [a, o] = await Promise.all([b.getToken(APP.appid), b.getToken(OTHER_APP.appid)]);
    expect(a).not.toBe(o);
    expect(await emulator.current.control.callCount(STABLE)).toBe(2);
  });

  it('answers a 40001 with one normal-mode refetch and one retry of the call', async () => {
    const { control } = emulator.current;
    const b = broker();
    await b.getToken(APP.appid);
    await control.injectFault({ path: PHONE, kind: 'errcode', errcode: 40001 });
    const code = await phoneCode();
    const info = await b.call(APP.appid, (token) =>
      clientFor(emulator.current).getPhoneNumber(token, code),
    );
    expect(info.purePhoneNumber).toBe('13800138000');
    expect(await control.callCount(STABLE)).toBe(2);
    expect(await control.callCount(PHONE)).toBe(2);
  });

  it('picks up the token another system force-refreshed (the old one answers 40001)', async () => {
    const b = broker();
    const before = await b.getToken(APP.appid);
    const forced = await clientFor(emulator.current).fetchStableToken(APP, true);
    const code = await phoneCode();
    const used: string[] = [];
    await b.call(APP.appid, (token) => {
      used.push(token);
      return clientFor(emulator.current).getPhoneNumber(token, code);
    });
    expect(used).toEqual([before, forced.accessToken]);
    expect(await b.getToken(APP.appid)).toBe(forced.accessToken);
  });

  it('never loops: a token rejected twice fails after exactly 2 calls and 2 fetches', async () => {
    const { control } = emulator.current;
    const b = broker();
    await control.injectFault({ path: PHONE, kind: 'errcode', errcode: 40001, times: 'always' });
    const code = await phoneCode();
    let error: unknown;
    try {
      await b.call(APP.appid, (token) => clientFor(emulator.current).getPhoneNumber(token, code));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WechatAuthError);
    expect((error as WechatAuthError).code).toBe('wechat_unavailable');
    expect(await control.callCount(PHONE)).toBe(2);
    expect(await control.callCount(STABLE)).toBe(2);
    await control.clearFaults();
  });

  it('shares one refetch among concurrent callers that saw the same token rejected', async () => {
    const { control } = emulator.current;
    const b = broker();
    await b.getToken(APP.appid);
    // Another system force-refreshes: every call with our cached token now answers 40001.
    await clientFor(emulator.current).fetchStableToken(APP, true);
    const { codes } = await control.mintPhoneCodes({ appid: APP.appid, count: 20 });
    await Promise.all(
      codes.map((code) =>
        b.call(APP.appid, (token) => clientFor(emulator.current).getPhoneNumber(token, code)),
      ),
    );
    // 1 initial fetch + 1 forced by the other system + 1 shared refetch.
    expect(await control.callCount(STABLE)).toBe(3);
    expect(await control.callCount(PHONE)).toBe(40);
  });

  it('refreshes ahead of expiry, inside WeChat 5-minute renewal window', async () => {
    const { control } = emulator.current;
    let offsetMs = 0;
    const b = broker(() => Date.now() + offsetMs);
    const first = await b.getToken(APP.appid);
    // 7200 s token: still fresh 6800 s later, due for renewal (last 5 minutes) at 6960 s.
    offsetMs = 6800_000;
    await control.advanceClock(6800);
    expect(await b.getToken(APP.appid)).toBe(first);
    expect(await control.callCount(STABLE)).toBe(1);
    offsetMs = 6960_000;
    await control.advanceClock(160);
    const renewed = await b.getToken(APP.appid);
    expect(renewed).not.toBe(first);
    expect(await control.callCount(STABLE)).toBe(2);
  });

  it('keeps serving a still-valid token when the refresh ahead of expiry fails', async () => {
    const { control } = emulator.current;
    let offsetMs = 0;
    const b = broker(() => Date.now() + offsetMs);
    const first = await b.getToken(APP.appid);
    offsetMs = 6960_000;
    await control.injectFault({ path: STABLE, kind: 'http_500' });
    expect(await b.getToken(APP.appid)).toBe(first);
  });

  it('reports an unknown appid as bad_request without calling WeChat', async () => {
    await expect(broker().getToken('wx-not-configured')).rejects.toMatchObject({
      code: 'bad_request',
    });
    expect(await emulator.current.control.callCount(STABLE)).toBe(0);
  });
});
