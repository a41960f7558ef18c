/**
 * Content security over HTTP: nicknames through msgSecCheck before they are stored, avatars
 * through mediaCheckAsync and served to others only once WeChat's pushed verdict says pass.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { APP, useStack } from './support/stack.js';

const TOKEN = 'contentPush01';
const AES_KEY = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg';
const stack = useStack({ env: { WECHAT_PUSH_TOKEN: TOKEN, WECHAT_PUSH_AES_KEY: AES_KEY } });

afterEach(async () => {
  await stack.emulator.control.clearFaults();
  await stack.emulator.control.setContentRules({});
  stack.watchForLeaks(TOKEN, AES_KEY);
});

/** Message push from the emulator to this server (or to nowhere: WeChat cannot reach us). */
async function pushTo(url = `${stack.server.url}/wechat/events`) {
  await stack.emulator.control.configurePush({
    appid: APP.appid,
    url,
    token: TOKEN,
    encodingAesKey: AES_KEY,
  });
}

async function png(color: string): Promise<Uint8Array> {
  return sharp({ create: { width: 12, height: 12, channels: 3, background: color } })
    .png()
    .toBuffer();
}

const publicFetch = (url: string) => fetch(url);

/** The wxa_media_check event WeChat pushes for the check `traceId`. */
const verdict = (traceId: string | undefined, suggest: 'pass' | 'risky', label: number) => ({
  Event: 'wxa_media_check',
  appid: APP.appid,
  trace_id: traceId,
  version: 2,
  errcode: 0,
  errmsg: 'ok',
  result: { suggest, label },
  detail: [{ strategy: 'content_model', errcode: 0, suggest, label, prob: 90 }],
});
const ownerFetch = (url: string, token: string) =>
  fetch(url, { headers: { authorization: `Bearer ${token}` } });

describe('nicknames: msgSecCheck before anything is stored', () => {
  it('refuses a risky nickname as content_rejected and stores nothing', async () => {
    await stack.emulator.control.setContentRules({ risky: ['赌博'], review: ['审核'] });
    const user = await stack.login();
    const refused = await stack.api('POST', '/userinfo', {
      token: user.token,
      body: { nickname: '来赌博吧' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('content_rejected');
    expect((await stack.api('GET', '/me', { token: user.token })).body.user).not.toHaveProperty(
      'nickname',
    );
    const review = await stack.api('POST', '/userinfo', {
      token: user.token,
      body: { nickname: '待审核的名字' },
    });
    expect(review.status).toBe(200);
    expect(review.body.user).toMatchObject({ nickname: '待审核的名字' });
    expect(await stack.server.waitForOutput('"event":"content_review"')).toMatch(
      /"event":"content_review"/,
    );
    const pass = await stack.api('POST', '/userinfo', {
      token: user.token,
      body: { nickname: '小红' },
    });
    expect(pass.body.user).toMatchObject({ nickname: '小红' });
    expect(await stack.emulator.control.callCount('/wxa/msg_sec_check')).toBeGreaterThanOrEqual(3);
  });

  it('stores nothing while WeChat is down: no nickname passes unchecked', async () => {
    const user = await stack.login();
    await stack.emulator.control.injectFault({
      path: '/wxa/msg_sec_check',
      kind: 'http_500',
      times: 'always',
    });
    const answer = await stack.api('POST', '/userinfo', {
      token: user.token,
      body: { nickname: '小刚' },
    });
    expect(answer.status).toBe(502);
    expect(answer.body.error?.code).toBe('wechat_unavailable');
    expect((await stack.api('GET', '/me', { token: user.token })).body.user).not.toHaveProperty(
      'nickname',
    );
  });
});

describe('avatars: mediaCheckAsync, served to others only after pass', () => {
  it('serves an unchecked avatar to its owner and to WeChat only, then to all once it passed', async () => {
    await pushTo('http://127.0.0.1:9/unreachable'); // WeChat's verdict does not reach us yet
    const user = await stack.login();
    const upload = await stack.uploadAvatar(user.token, [
      { bytes: await png('#123456'), type: 'image/png' },
    ]);
    expect(upload.status).toBe(200);
    const url = upload.body.avatarUrl as string;
    const { checks } = await stack.emulator.control.mediaChecks();
    const check = checks.find((c) => c.mediaUrl.startsWith(`${url}?check=`));
    // WeChat downloaded it through the URL it was given, then could not deliver its verdict.
    expect(check).toMatchObject({ downloadStatus: 200, suggest: 'pass', delivered: false });
    expect((await publicFetch(url)).status).toBe(404);
    expect((await publicFetch(`${url}?check=wrongwrongwrongwrongwr`)).status).toBe(404);
    expect((await publicFetch(`${url}?check=${'é'.repeat(22)}`)).status).toBe(404);
    const own = await ownerFetch(url, user.token);
    expect(own.status).toBe(200);
    expect(own.headers.get('cache-control')).toBe('private, no-store');
    const other = await stack.login();
    expect((await ownerFetch(url, other.token)).status).toBe(404);

    // WeChat delivers the verdict (a retry, later): now it is public and cacheable.
    await pushTo();
    const delivery = await stack.emulator.control.push({
      appid: APP.appid,
      event: verdict(check?.traceId, 'pass', 100),
    });
    expect(delivery.delivered).toBe(true);
    const served = await publicFetch(url);
    expect(served.status).toBe(200);
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('a risky image is deleted and taken off the profile; review leaves it unserved', async () => {
    await pushTo();
    const user = await stack.login();
    await stack.emulator.control.queueMediaVerdicts(['pass']);
    const kept = await stack.uploadAvatar(user.token, [
      { bytes: await png('#0f0'), type: 'image/png' },
    ]);
    await stack.emulator.control.mediaChecks();
    expect((await publicFetch(kept.body.avatarUrl as string)).status).toBe(200);

    // The verdict is held back (WeChat cannot reach us yet) while the profile takes the avatar.
    await pushTo('http://127.0.0.1:9/unreachable');
    await stack.emulator.control.queueMediaVerdicts(['risky']);
    const bad = await stack.uploadAvatar(user.token, [
      { bytes: await png('#f00'), type: 'image/png' },
    ]);
    const badUrl = bad.body.avatarUrl as string;
    const { checks } = await stack.emulator.control.mediaChecks();
    const check = checks.find((c) => c.mediaUrl.startsWith(`${badUrl}?check=`));
    expect(check).toMatchObject({ suggest: 'risky', delivered: false });
    const saved = await stack.api('POST', '/userinfo', {
      token: user.token,
      body: { avatarUrl: badUrl },
    });
    expect(saved.body.user).toMatchObject({ avatarUrl: badUrl });
    await pushTo();
    const delivered = await stack.emulator.control.push({
      appid: APP.appid,
      event: verdict(check?.traceId, 'risky', 20002),
    });
    expect(delivered.delivered).toBe(true);
    expect((await ownerFetch(badUrl, user.token)).status).toBe(404);
    expect((await stack.api('GET', '/me', { token: user.token })).body.user).not.toHaveProperty(
      'avatarUrl',
    );

    await stack.emulator.control.queueMediaVerdicts(['review']);
    const doubtful = await stack.uploadAvatar(user.token, [
      { bytes: await png('#00f'), type: 'image/png' },
    ]);
    await stack.emulator.control.mediaChecks();
    expect((await publicFetch(doubtful.body.avatarUrl as string)).status).toBe(404);
    expect((await ownerFetch(doubtful.body.avatarUrl as string, user.token)).status).toBe(200);
  });

  it('refuses the upload while WeChat is down, and keeps no image', async () => {
    await pushTo();
    const user = await stack.login();
    const before = await readdir(join(stack.dataDir, 'avatars')).catch(() => []);
    await stack.emulator.control.injectFault({
      path: '/wxa/media_check_async',
      kind: 'errcode',
      errcode: -1,
      times: 'always',
    });
    const upload = await stack.uploadAvatar(user.token, [
      { bytes: await png('#abcdef'), type: 'image/png' },
    ]);
    expect(upload.status).toBe(502);
    expect(upload.body.error?.code).toBe('wechat_unavailable');
    expect(await readdir(join(stack.dataDir, 'avatars'))).toEqual(before);
  });

  it('answers success and changes nothing for a verdict of an unknown check', async () => {
    await pushTo();
    const before = await readdir(join(stack.dataDir, 'avatars')).catch(() => []);
    const delivery = await stack.emulator.control.push({
      appid: APP.appid,
      event: {
        Event: 'wxa_media_check',
        appid: APP.appid,
        trace_id: 'no-such-trace-id',
        version: 2,
        errcode: 0,
        result: { suggest: 'risky', label: 20002 },
      },
    });
    expect(delivery.delivered).toBe(true);
    // Nothing changed: every stored avatar file is still there.
    expect(await readdir(join(stack.dataDir, 'avatars'))).toEqual(before);
  });
});
