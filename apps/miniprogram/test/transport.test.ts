import { describe, expect, it } from 'vitest';
import { ClientError } from '../miniprogram/services/errors.js';
import { CloudTransport } from '../miniprogram/services/transport.js';
import type { WxCloudApi } from '../miniprogram/services/wx-api.js';

/** wx.cloud stand-in: records calls and answers what a cloud function returns. */
function cloud(answer: (name: string) => unknown) {
  const calls: { name: string; data?: Record<string, unknown> }[] = [];
  const api: WxCloudApi = {
    callFunction: (option) => {
      calls.push(option);
      return Promise.resolve({ result: answer(option.name) });
    },
    uploadFile: (option) => Promise.resolve({ fileID: `cloud://env/${option.cloudPath}` }),
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
    await transport.call('logout', undefined);
    expect(calls).toEqual([
      { name: 'login' },
      { name: 'login' },
      { name: 'userinfo', data: { nickname: 'n' } },
    ]);
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
