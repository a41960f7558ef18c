import { describe, expect, it } from 'vitest';
import type { WechatAuthError } from '../../src/errors.js';
import { APP, useEmulator } from '../support/emulator.js';
import { WechatHttp } from '../../src/wechat/http.js';
import { WechatOAuthClient } from '../../src/wechat/oauth.js';

const emulator = useEmulator();
const oauth = () =>
  new WechatOAuthClient(
    new WechatHttp({ apiOrigin: emulator.current.url, openOrigin: emulator.current.url }),
  );

describe('WechatOAuthClient.buildAuthorizeUrl', () => {
  it('keeps WeChat parameter order and the #wechat_redirect fragment', () => {
    const url = oauth().buildAuthorizeUrl({
      appid: 'wxoa',
      redirectUri: 'https://example.com/oauth/wechat/callback?x=1',
      scope: 'snsapi_base',
      state: 'abc123',
    });
    expect(url).toBe(
      `${emulator.current.url}/connect/oauth2/authorize?appid=wxoa&redirect_uri=https%3A%2F%2Fexample.com%2Foauth%2Fwechat%2Fcallback%3Fx%3D1&response_type=code&scope=snsapi_base&state=abc123#wechat_redirect`,
    );
  });

  it.each(['has space', 'x'.repeat(129), 'a-b'])('refuses a state of %j', (state) => {
    expect(() =>
      oauth().buildAuthorizeUrl({
        appid: 'wxoa',
        redirectUri: 'https://e.com/cb',
        scope: 'snsapi_base',
        state,
      }),
    ).toThrow(RangeError);
  });
});

describe('WechatOAuthClient against the emulator', () => {
  it('follows authorize -> code -> tokens -> userinfo (UTF-8 nickname) -> refresh', async () => {
    const { control, url } = emulator.current;
    await control.setOAuthUser({
      appid: APP.appid,
      nickname: '公众号用户😀',
      unionid: 'u-oauth-1',
    });
    const client = oauth();
    const authorize = client.buildAuthorizeUrl({
      appid: APP.appid,
      redirectUri: 'http://127.0.0.1:9/cb',
      scope: 'snsapi_userinfo',
      state: 'st4te',
    });
    const redirect = await fetch(authorize.replace('#wechat_redirect', ''), { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('http://127.0.0.1:9/cb');
    expect(location.searchParams.get('state')).toBe('st4te');
    const grant = await client.exchangeCode(APP, location.searchParams.get('code') ?? '');
    expect(grant).toMatchObject({
      scope: 'snsapi_userinfo',
      unionid: 'u-oauth-1',
      isSnapshotUser: false,
    });
    const info = await client.fetchUserInfo(grant.accessToken, grant.openid);
    expect(info.nickname).toBe('公众号用户😀');
    expect(await client.isTokenValid(grant.accessToken, grant.openid)).toBe(true);
    const refreshed = await client.refresh(APP.appid, grant.refreshToken);
    expect(refreshed.accessToken).not.toBe(grant.accessToken);
    expect(await client.isTokenValid(grant.accessToken, grant.openid)).toBe(false);
    expect(url).toContain('127.0.0.1');
  });

  it('returns code_used for a replayed callback code and no code when the user declines', async () => {
    const { control } = emulator.current;
    const { code } = await control.mintOAuthCode({ appid: APP.appid, scope: 'snsapi_base' });
    await oauth().exchangeCode(APP, code);
    const error = await oauth()
      .exchangeCode(APP, code)
      .catch((e: unknown) => e);
    expect((error as WechatAuthError).code).toBe('code_used');

    await control.setOAuthUser({ appid: APP.appid, consent: 'deny' });
    const authorize = oauth().buildAuthorizeUrl({
      appid: APP.appid,
      redirectUri: 'http://127.0.0.1:9/cb',
      scope: 'snsapi_userinfo',
      state: 's',
    });
    const redirect = await fetch(authorize, { redirect: 'manual' });
    const location = new URL(redirect.headers.get('location') ?? '');
    expect(location.searchParams.has('code')).toBe(false);
    expect(location.searchParams.get('state')).toBe('s');
  });

  it('refuses userinfo for a snsapi_base grant (48001)', async () => {
    const { control } = emulator.current;
    await control.setOAuthUser({ appid: APP.appid });
    const { code } = await control.mintOAuthCode({ appid: APP.appid, scope: 'snsapi_base' });
    const grant = await oauth().exchangeCode(APP, code);
    const error = await oauth()
      .fetchUserInfo(grant.accessToken, grant.openid)
      .catch((e: unknown) => e);
    expect((error as WechatAuthError).wechatErrcode).toBe(48001);
  });
});
