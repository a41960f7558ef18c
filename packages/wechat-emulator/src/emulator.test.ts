import { describe, expect, it } from 'vitest';
import { useEmulatorProcess } from './test-support/process.js';
import { sessionKeySignature } from './state.js';

const APP = { appid: 'wx00000000emulator', secret: 'emulator-only-secret' };
const current = useEmulatorProcess({ apps: [APP] });

async function get(path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${current().url}${path}`)).json()) as Record<string, unknown>;
}
async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${current().url}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}
const stable = (force = false) =>
  post('/cgi-bin/stable_token', {
    grant_type: 'client_credential',
    appid: APP.appid,
    secret: APP.secret,
    force_refresh: force,
  });
const phone = async (token: string) => {
  const { codes } = await current().control.mintPhoneCodes({ appid: APP.appid });
  return post(`/wxa/business/getuserphonenumber?access_token=${token}`, { code: codes[0] });
};

describe('wechat-emulator process', () => {
  it('answers jscode2session as text/plain JSON, like WeChat', async () => {
    const { code } = await current().control.mintLoginCode({ appid: APP.appid });
    const response = await fetch(
      `${current().url}/sns/jscode2session?appid=${APP.appid}&secret=${APP.secret}&js_code=${code}&grant_type=authorization_code`,
    );
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(Object.keys((await response.json()) as object).sort()).toEqual([
      'openid',
      'session_key',
    ]);
  });

  it('renews a stable token only inside its last 5 minutes, keeping the old one valid', async () => {
    const first = (await stable()).access_token as string;
    await current().control.advanceClock(7200 - 301);
    expect((await stable()).access_token).toBe(first);
    await current().control.advanceClock(2);
    const second = await stable();
    expect(second.access_token).not.toBe(first);
    expect(second.expires_in).toBe(7200);
    expect((await phone(first)).errcode).toBe(0);
    await current().control.advanceClock(300);
    expect((await phone(first)).errcode).toBe(42001);
  });

  it('revokes the old token on force_refresh, and ignores a second force within 30 s', async () => {
    const first = (await stable()).access_token as string;
    const forced = (await stable(true)).access_token as string;
    expect((await phone(first)).errcode).toBe(40001);
    expect((await stable(true)).access_token).toBe(forced);
  });

  it('keeps a /cgi-bin/token superseded by a newer one usable for 5 minutes, then answers 40001', async () => {
    const legacy = () =>
      get(`/cgi-bin/token?grant_type=client_credential&appid=${APP.appid}&secret=${APP.secret}`);
    const first = (await legacy()).access_token as string;
    await legacy();
    expect((await phone(first)).errcode).toBe(0);
    await current().control.advanceClock(301);
    expect((await phone(first)).errcode).toBe(42001);
  });

  it('answers 47001 for a body that is not JSON and 40013/40125 for bad credentials', async () => {
    expect((await post('/cgi-bin/stable_token', '{not json')).errcode).toBe(47001);
    expect(
      (
        await post('/cgi-bin/stable_token', {
          grant_type: 'client_credential',
          appid: 'wxnope',
          secret: 'x',
        })
      ).errcode,
    ).toBe(40013);
    expect(
      (
        await post('/cgi-bin/stable_token', {
          grant_type: 'client_credential',
          appid: APP.appid,
          secret: 'x',
        })
      ).errcode,
    ).toBe(40125);
  });

  it('checks session keys with HMAC-SHA256 over the empty string', async () => {
    const token = (await stable()).access_token as string;
    const { openid, sessionKey } = await current().control.mintLoginCode({ appid: APP.appid });
    const check = (key: string) =>
      get(
        `/wxa/checksession?access_token=${token}&signature=${sessionKeySignature(key)}&openid=${openid}&sig_method=hmac_sha256`,
      );
    expect((await check(sessionKey)).errcode).toBe(0);
    expect((await check('AAAAAAAAAAAAAAAAAAAAAA==')).errcode).toBe(87009);
  });

  it('refuses authorize links with parameters out of order', async () => {
    const response = await fetch(
      `${current().url}/connect/oauth2/authorize?redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&appid=${APP.appid}&response_type=code&scope=snsapi_base&state=s`,
      { redirect: 'manual' },
    );
    expect(response.status).toBe(400);
  });

  it("shows an OA user's new nickname through a grant issued before the change", async () => {
    const { openid } = await current().control.setOAuthUser({
      appid: APP.appid,
      nickname: '旧名字',
    });
    const { code } = await current().control.mintOAuthCode({
      appid: APP.appid,
      scope: 'snsapi_userinfo',
    });
    const grant = await get(
      `/sns/oauth2/access_token?appid=${APP.appid}&secret=${APP.secret}&code=${code}&grant_type=authorization_code`,
    );
    await current().control.setOAuthUser({ appid: APP.appid, openid, nickname: '新名字' });
    const info = await get(
      `/sns/userinfo?access_token=${String(grant.access_token)}&openid=${openid}&lang=zh_CN`,
    );
    expect(info).toMatchObject({ openid, nickname: '新名字' });
  });

  it('serves the stand-in avatar image', async () => {
    const response = await fetch(`${current().url}/mmopen/emulator-avatar.svg`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await response.text()).toMatch(/^<svg /);
  });

  it('counts calls per path and clears them on reset', async () => {
    await stable();
    await stable();
    expect(await current().control.callCount('/cgi-bin/stable_token')).toBe(2);
    await current().control.reset();
    expect(await current().control.callCount('/cgi-bin/stable_token')).toBe(0);
  });

  it('forgets everything on reset: codes, tokens, faults, push configuration, checks', async () => {
    const control = current().control;
    const { code } = await control.mintLoginCode({ appid: APP.appid });
    const token = (await stable()).access_token as string;
    const { codes } = await control.mintPhoneCodes({ appid: APP.appid });
    await control.injectFault({
      path: '/cgi-bin/token',
      kind: 'errcode',
      errcode: -1,
      times: 'always',
    });
    await control.configurePush({
      appid: APP.appid,
      url: 'http://127.0.0.1:9/events',
      token: 'tok',
    });
    await control.queueMediaVerdicts(['risky']);
    await control.reset();
    const exchange = await get(
      `/sns/jscode2session?appid=${APP.appid}&secret=${APP.secret}&js_code=${code}&grant_type=authorization_code`,
    );
    expect(exchange.errcode).toBe(40029);
    expect((await phone(token)).errcode).toBe(40001);
    const fresh = (await stable()).access_token as string;
    expect(
      (await post(`/wxa/business/getuserphonenumber?access_token=${fresh}`, { code: codes[0] }))
        .errcode,
    ).toBe(40029);
    expect(
      (
        await get(
          `/cgi-bin/token?grant_type=client_credential&appid=${APP.appid}&secret=${APP.secret}`,
        )
      ).errcode,
    ).toBeUndefined();
    await expect(control.push({ appid: APP.appid, event: { Event: 'x' } })).rejects.toThrow();
    expect((await control.mediaChecks()).checks).toEqual([]);
  });

  it('rejects bad control input with a 400 envelope', async () => {
    const response = await fetch(`${current().url}/__control/faults`, {
      method: 'POST',
      body: '{"path":"/x","kind":"explode"}',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('bad_request');
    await expect(current().control.mintLoginCodes({ appid: 'wx-unknown' })).rejects.toThrow(
      /unknown appid/,
    );
  });
});
