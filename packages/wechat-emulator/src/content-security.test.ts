/** Content security v2 as the docs describe it: who may be checked, and what comes back. */
import { describe, expect, it } from 'vitest';
import { useEmulatorProcess } from './test-support/process.js';

const APP = { appid: 'wx0000000000content', secret: 'content-only-secret' };
const current = useEmulatorProcess({ apps: [APP] });

async function call(path: string, body: unknown): Promise<Record<string, unknown>> {
  const token = (await (
    await fetch(`${current().url}/cgi-bin/stable_token`, {
      method: 'POST',
      body: JSON.stringify({
        grant_type: 'client_credential',
        appid: APP.appid,
        secret: APP.secret,
      }),
    })
  ).json()) as { access_token: string };
  const response = await fetch(`${current().url}${path}?access_token=${token.access_token}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('msg_sec_check v2', () => {
  it('answers a verdict for a user who opened the app in the last two hours', async () => {
    const { openid } = await current().control.mintLoginCode({ appid: APP.appid });
    await current().control.setContentRules({ risky: ['坏'], review: ['疑'] });
    const check = (content: string) =>
      call('/wxa/msg_sec_check', { content, version: 2, scene: 1, openid });
    expect(await check('你好')).toMatchObject({
      errcode: 0,
      result: { suggest: 'pass', label: 100 },
      trace_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/) as unknown,
    });
    // Risky is still errcode 0 in v2 (87014 was v1).
    expect(await check('坏人')).toMatchObject({ errcode: 0, result: { suggest: 'risky' } });
    expect(await check('可疑')).toMatchObject({ errcode: 0, result: { suggest: 'review' } });
    expect(
      await call('/wxa/msg_sec_check', { content: 'x', version: 2, scene: 9, openid }),
    ).toMatchObject({ errcode: 40129 });
    expect(
      await call('/wxa/msg_sec_check', { content: 'x', version: 2, scene: 1, openid: 'o_x' }),
    ).toMatchObject({ errcode: 40003 });
    expect(await check('字'.repeat(2501))).toMatchObject({ errcode: 47001 });
    await current().control.advanceClock(2 * 3600 + 1);
    expect(await check('你好')).toMatchObject({ errcode: 61010 });
  });
});

describe('media_check_async v2', () => {
  it('answers a trace id, refuses a wrong media type, and records an unreachable download', async () => {
    const { openid } = await current().control.mintLoginCode({ appid: APP.appid });
    const submit = (mediaType: number) =>
      call('/wxa/media_check_async', {
        media_url: 'http://127.0.0.1:9/none.png',
        media_type: mediaType,
        version: 2,
        scene: 1,
        openid,
      });
    expect(await submit(3)).toMatchObject({ errcode: 40004 });
    const answer = await submit(2);
    expect(answer).toMatchObject({
      errcode: 0,
      errmsg: 'ok',
      trace_id: expect.any(String) as unknown,
    });
    const { checks } = await current().control.mediaChecks();
    expect(checks).toEqual([
      expect.objectContaining({
        traceId: answer.trace_id,
        downloadStatus: null,
        delivered: false,
      }) as unknown,
    ]);
    // The message as a cloud function routed wxa_media_check would receive it.
    expect(checks[0]?.event).toMatchObject({
      MsgType: 'event',
      Event: 'wxa_media_check',
      FromUserName: openid,
      appid: APP.appid,
      trace_id: answer.trace_id,
      version: 2,
      errcode: -1008,
      CreateTime: expect.any(Number) as unknown,
      ToUserName: expect.stringMatching(/^gh_/) as unknown,
    });
  });
});
