import { describe, expect, it } from 'vitest';
import { ClientError } from '../miniprogram/services/errors.js';
import { createTransport } from '../miniprogram/services/create-transport.js';
import { CloudTransport } from '../miniprogram/services/transport.js';
import type { WxCloudApi } from '../miniprogram/services/wx-api.js';
import { WxStandin } from './wx-standin.js';

/** wx.cloud stand-in: records calls and answers what a cloud function returns. */
function cloud(answer: (name: string) => unknown) {
  const calls: { name: string; data?: Record<string, unknown> }[] = [];
  const api: WxCloudApi = {
    callFunction: (option) => {
      calls.push(option);
      return Promise.resolve({ result: answer(option.name) });
    },
    uploadFile: (option) => Promise.resolve({ fileID: `cloud://env/${option.cloudPath}` }),
    // wx.cloud.CloudID answers a special object the platform resolves inside callFunction's data.
    CloudID: (cloudID) => ({ kind: 'CloudID', cloudID }),
  };
  return { api, calls };
}

const USER = { id: 'u1', createdAt: '2026-01-01T00:00:00.000Z' };

describe('CloudTransport', () => {
  it('calls the function of each route and unwraps { ok: true, ... }', async () => {
    const { api, calls } = cloud(() => ({ ok: true, isNewUser: false, user: USER }));
    const transport = new CloudTransport(api);
    expect(await transport.call('login', { code: 'ignored in the cloud' })).toEqual({
      isNewUser: false,
      user: USER,
    });
    expect(await transport.call('me', undefined)).toMatchObject({ user: USER });
    await transport.call('userinfo', { nickname: 'n' });
    await transport.call('welcomeReward', undefined);
    await transport.call('logout', undefined);
    expect(calls).toEqual([
      { name: 'login' },
      { name: 'login' },
      { name: 'userinfo', data: { nickname: 'n' } },
      { name: 'rewards' },
    ]);
  });

  it("sends the legacy button's CloudID, never its encrypted data (the cloud holds no key)", async () => {
    const { api, calls } = cloud(() => ({ ok: true, user: USER }));
    const transport = new CloudTransport(api);
    const detail = {
      encryptedData: 'ZW5j',
      iv: 'aXY=',
      rawData: '{}',
      signature: 's',
      cloudID: 'c1',
    };
    const body = transport.legacyProfileBody(detail);
    expect(body).toEqual({ cloudID: { kind: 'CloudID', cloudID: 'c1' } });
    await transport.call('userinfo', body ?? {});
    expect(calls).toEqual([
      { name: 'userinfo', data: { cloudID: { kind: 'CloudID', cloudID: 'c1' } } },
    ]);
    // No CloudID (declined, or no cloud development): nothing to send.
    expect(transport.legacyProfileBody({ encryptedData: 'ZW5j', iv: 'aXY=' })).toBeUndefined();
  });

  it('turns { ok: false, error } into a ClientError with the same code', async () => {
    const { api } = cloud(() => ({
      ok: false,
      error: { code: 'invalid_code', message: 'the code is invalid' },
    }));
    const error = (await new CloudTransport(api)
      .call('phone', { code: 'x' })
      .catch((e: unknown) => e)) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    expect(error.code).toBe('invalid_code');
  });
});

describe('HttpTransport from createTransport', () => {
  const answer = () => Promise.resolve({ statusCode: 200, data: { user: USER } });

  it("sends the mini-program's appid (wx.getAccountInfoSync) as X-WeChat-Appid", async () => {
    const wx = new WxStandin(answer);
    wx.appid = 'wx1234567890abcdef';
    const transport = createTransport(wx, { kind: 'http', baseUrl: 'http://127.0.0.1:9' });
    await transport.call('me', undefined, 'token');
    await transport.call('welcomeReward', undefined, 'token');
    expect(wx.requests).toEqual([
      { method: 'GET', path: '/me', authorization: 'Bearer token', appid: 'wx1234567890abcdef' },
      {
        method: 'POST',
        path: '/rewards/welcome',
        authorization: 'Bearer token',
        appid: 'wx1234567890abcdef',
      },
    ]);
  });

  it("sends the legacy button's encrypted data (the server holds the session_key)", () => {
    const transport = createTransport(new WxStandin(answer), {
      kind: 'http',
      baseUrl: 'http://127.0.0.1:9',
    });
    expect(
      transport.legacyProfileBody({ encryptedData: 'ZW5j', iv: 'aXY=', cloudID: 'c1' }),
    ).toEqual({ encryptedData: 'ZW5j', iv: 'aXY=' });
    expect(
      transport.legacyProfileBody({
        encryptedData: 'ZW5j',
        iv: 'aXY=',
        rawData: 'r',
        signature: 's',
      }),
    ).toEqual({ encryptedData: 'ZW5j', iv: 'aXY=', rawData: 'r', signature: 's' });
    expect(transport.legacyProfileBody({})).toBeUndefined();
  });

  it("sends no appid from DevTools' touristappid (the server's default app answers)", async () => {
    const wx = new WxStandin(answer);
    const transport = createTransport(wx, { kind: 'http', baseUrl: 'http://127.0.0.1:9' });
    await transport.call('me', undefined, 'token');
    expect(wx.requests[0]?.appid).toBeUndefined();
  });
});
