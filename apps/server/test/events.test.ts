/**
 * WeChat's message push over HTTP: the emulator pushes the user-information events (signed, and
 * encrypted in safe and compatible mode, JSON or XML) to the real server process, as WeChat does.
 */
import { pushSignature } from '@wxlogin/wechat-core';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { readEmbeddedCollection } from './support/processes.js';
import { APP, useStack } from './support/stack.js';

const TOKEN = 'pushToken2026';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const stack = useStack({
  env: { WECHAT_PUSH_TOKEN: TOKEN, WECHAT_PUSH_AES_KEY: AES_KEY, ACCOUNT_SWEEP_INTERVAL_MS: '200' },
});
/** A server in plain mode (no EncodingAESKey), started on first use. */
let plain: { url: string; dataDir: string } | undefined;
async function plainServer() {
  if (!plain) {
    const { server, dataDir } = await stack.extraServer({ WECHAT_PUSH_TOKEN: TOKEN });
    plain = { url: server.url, dataDir };
  }
  return plain;
}

afterAll(() => stack.watchForLeaks(TOKEN, AES_KEY));

type Format = 'json' | 'xml';
type Mode = 'plain' | 'compat' | 'safe';

async function pushVia(url: string, format: Format, mode: Mode) {
  await stack.emulator.control.configurePush({
    appid: APP.appid,
    url: `${url}/wechat/events`,
    token: TOKEN,
    ...(mode === 'plain' ? {} : { encodingAesKey: AES_KEY }),
    format,
    mode,
  });
}

const revoke = (openid: string, info: string) => ({
  Event: 'user_authorization_revoke',
  OpenID: openid,
  AppID: APP.appid,
  RevokeInfo: info,
});

/** A user with a nickname, an avatar and a phone, on the server at `url` (the stack's by default). */
async function profiledUser(url = stack.server.url) {
  // WeChat's image check of the avatar reports to this server: the avatar is public once passed.
  await pushVia(url, 'json', url === stack.server.url ? 'safe' : 'plain');
  const login = await stack.loginOn(url);
  const token = login.body.token as string;
  const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00f' } })
    .png()
    .toBuffer();
  const upload = await stack.uploadAvatar(token, [{ bytes: image, type: 'image/png' }], url);
  const avatarUrl = upload.body.avatarUrl as string;
  await stack.emulator.control.mediaChecks();
  expect((await fetch(avatarUrl)).status).toBe(200);
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
  expect((await call('POST', '/userinfo', { nickname: '阿花', avatarUrl })).status).toBe(200);
  const { codes } = await stack.emulator.control.mintPhoneCodes({
    appid: APP.appid,
    openid: login.openid,
    purePhoneNumber: '13500002222',
  });
  expect((await call('POST', '/phone', { code: codes[0] })).status).toBe(200);
  stack.watchForLeaks('13500002222');
  const me = async () => (await call('GET', '/me')).body.user as Record<string, unknown>;
  return { openid: login.openid, token, avatarUrl, me, call };
}

describe('GET /wechat/events (the URL check)', () => {
  const url = (query: Record<string, string>) =>
    `${stack.server.url}/wechat/events?${new URLSearchParams(query).toString()}`;
  it('answers echostr when the signature checks, 401 otherwise', async () => {
    await pushVia(stack.server.url, 'json', 'safe');
    const request = await stack.emulator.control.buildPush({ appid: APP.appid, event: {} });
    const signed = new URL(request.url).searchParams;
    const query = {
      signature: signed.get('signature') as string,
      timestamp: signed.get('timestamp') as string,
      nonce: signed.get('nonce') as string,
      echostr: '4375120948345356249',
    };
    const ok = await fetch(url(query));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe('4375120948345356249');
    const forged = await fetch(url({ ...query, nonce: '1' }));
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await fetch(url({ ...query, signature: '' }))).status).toBe(401);
  });
});

describe('POST /wechat/events: what each event does', () => {
  it('RevokeInfo 6 (safe mode, JSON): nickname and avatar go, with the image; the phone stays', async () => {
    const user = await profiledUser();
    await pushVia(stack.server.url, 'json', 'safe');
    const delivery = await stack.emulator.control.push({
      appid: APP.appid,
      event: revoke(user.openid, '6'),
    });
    expect(delivery).toMatchObject({
      delivered: true,
      attempts: [{ status: 200, body: 'success' }],
    });
    expect(JSON.parse(delivery.body)).toEqual({
      ToUserName: expect.any(String) as unknown,
      Encrypt: expect.any(String) as unknown,
    });
    const me = await user.me();
    expect(me).not.toHaveProperty('nickname');
    expect(me).not.toHaveProperty('avatarUrl');
    expect(me.phone).toMatchObject({ purePhoneNumber: '13500002222' });
    expect((await fetch(user.avatarUrl)).status).toBe(404);
  });

  it('RevokeInfo 8 (safe mode, XML): the phone goes, the profile stays', async () => {
    const user = await profiledUser();
    await pushVia(stack.server.url, 'xml', 'safe');
    const delivery = await stack.emulator.control.push({
      appid: APP.appid,
      event: revoke(user.openid, '8'),
    });
    expect(delivery.delivered).toBe(true);
    expect(delivery.body).toMatch(
      /^<xml><ToUserName><!\[CDATA\[gh_\w+\]\]><\/ToUserName><Encrypt>/,
    );
    const me = await user.me();
    expect(me).not.toHaveProperty('phone');
    expect(me).toMatchObject({ nickname: '阿花', avatarUrl: user.avatarUrl });
  });

  it('RevokeInfo 19 and 20 (compatible mode): the nickname, then the avatar', async () => {
    const user = await profiledUser();
    await pushVia(stack.server.url, 'json', 'compat');
    expect(
      (await stack.emulator.control.push({ appid: APP.appid, event: revoke(user.openid, '19') }))
        .delivered,
    ).toBe(true);
    let me = await user.me();
    expect(me).not.toHaveProperty('nickname');
    expect(me.avatarUrl).toBe(user.avatarUrl);
    await pushVia(stack.server.url, 'xml', 'compat');
    await stack.emulator.control.push({ appid: APP.appid, event: revoke(user.openid, '20') });
    me = await user.me();
    expect(me).not.toHaveProperty('avatarUrl');
    expect(me.phone).toBeDefined();
    // Data this stack never stores (13: location): nothing changes.
    await stack.emulator.control.push({ appid: APP.appid, event: revoke(user.openid, '13') });
    expect(await user.me()).toEqual(me);
  });

  it('user_info_modified (plain mode, XML): nickname and avatar are cleared', async () => {
    const server = await plainServer();
    const user = await profiledUser(server.url);
    await pushVia(server.url, 'xml', 'plain');
    const delivery = await stack.emulator.control.push({
      appid: APP.appid,
      event: { Event: 'user_info_modified', OpenID: user.openid, AppID: APP.appid },
    });
    expect(delivery.delivered).toBe(true);
    expect(delivery.body).toContain('<Event><![CDATA[user_info_modified]]></Event>');
    const me = await user.me();
    expect(me).not.toHaveProperty('nickname');
    expect(me).not.toHaveProperty('avatarUrl');
    expect(me.phone).toBeDefined();
  });

  it('user_authorization_cancellation: deleted at once, no cooling-off', async () => {
    const user = await profiledUser();
    const userId = await findUserId(user.openid);
    expect(userId).toBeDefined();
    await pushVia(stack.server.url, 'json', 'safe');
    const delivery = await stack.emulator.control.push({
      appid: APP.appid,
      event: {
        Event: 'user_authorization_cancellation',
        OpenID: user.openid,
        AppID: APP.appid,
      },
    });
    expect(delivery.delivered).toBe(true);
    expect((await user.call('GET', '/me')).status).toBe(401);
    for (let i = 0; i < 100 && (await findUserId(user.openid)) !== undefined; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await findUserId(user.openid)).toBeUndefined();
    const users = await readEmbeddedCollection(stack.dataDir, 'users');
    expect(users.some((u) => u._id === userId)).toBe(false);
    const back = await stack.login(user.openid);
    expect(back.answer.body.isNewUser).toBe(true);
  });

  it('answers success and changes nothing for an unknown openid, app or event', async () => {
    const user = await profiledUser();
    const before = await user.me();
    await pushVia(stack.server.url, 'json', 'safe');
    for (const event of [
      revoke('o_nobody_here', '6'),
      { ...revoke(user.openid, '6'), AppID: 'wx00000000unknown0' },
      { Event: 'user_authorization_cancellation', AppID: APP.appid },
      { Event: 'debug_demo', debug_str: 'hello world' },
    ]) {
      const delivery = await stack.emulator.control.push({ appid: APP.appid, event });
      expect(delivery, JSON.stringify(event)).toMatchObject({ delivered: true });
    }
    expect(await user.me()).toEqual(before);
  });
});

async function findUserId(openid: string): Promise<string | undefined> {
  const identities = await readEmbeddedCollection(stack.dataDir, 'identities');
  const found = identities.find((i) => i.openid === openid && i.appid === APP.appid);
  return found ? String(found.userId) : undefined;
}

describe('POST /wechat/events: what is refused', () => {
  it('a forged or altered push is 401 and changes nothing; WeChat retries it', async () => {
    const user = await profiledUser();
    const before = await user.me();
    await pushVia(stack.server.url, 'json', 'safe');
    const built = await stack.emulator.control.buildPush({
      appid: APP.appid,
      event: revoke(user.openid, '6'),
    });
    const send = (url: string, body = built.body) =>
      fetch(url, { method: 'POST', headers: { 'content-type': built.contentType }, body });
    const url = new URL(built.url);
    const altered = (key: string, value: string) => {
      const copy = new URL(url);
      copy.searchParams.set(key, value);
      return copy.toString();
    };
    const outer = JSON.parse(built.body) as { ToUserName: string; Encrypt: string };
    const flipped = `${outer.Encrypt.slice(0, 10)}${outer.Encrypt[10] === 'A' ? 'B' : 'A'}${outer.Encrypt.slice(11)}`;
    for (const [what, response] of [
      ['signature', await send(altered('signature', 'f'.repeat(40)))],
      ['msg_signature', await send(altered('msg_signature', 'f'.repeat(40)))],
      ['Encrypt', await send(built.url, JSON.stringify({ ...outer, Encrypt: flipped }))],
      // An old URL, properly signed: refused for its age alone.
      [
        'old timestamp',
        await send(
          (() => {
            const old = new URL(url);
            old.searchParams.set('timestamp', '1714112445');
            const nonce = old.searchParams.get('nonce') ?? '';
            old.searchParams.set('signature', pushSignature(TOKEN, '1714112445', nonce));
            old.searchParams.set(
              'msg_signature',
              pushSignature(TOKEN, '1714112445', nonce, outer.Encrypt),
            );
            return old.toString();
          })(),
        ),
      ],
      // Not hex, and longer in bytes than in characters: refused, never a crash.
      ['non-ASCII signature', await send(altered('signature', 'é'.repeat(40)))],
      ['plain body', await send(built.url, JSON.stringify(revoke(user.openid, '6')))],
    ] as const) {
      expect(response.status, what).toBe(401);
    }
    expect(await user.me()).toEqual(before);

    // Another Token: WeChat's push is refused, and WeChat retries it three times.
    await stack.emulator.control.configurePush({
      appid: APP.appid,
      url: `${stack.server.url}/wechat/events`,
      token: 'someOtherToken',
      encodingAesKey: AES_KEY,
    });
    const refused = await stack.emulator.control.push({
      appid: APP.appid,
      event: revoke(user.openid, '6'),
    });
    expect(refused.delivered).toBe(false);
    expect(refused.attempts.map((a) => a.status)).toEqual([401, 401, 401, 401]);
    expect(await user.me()).toEqual(before);
  });

  it('an encrypted push for an app this server does not serve is 401', async () => {
    const stranger = 'wx00000000stranger';
    await stack.emulator.control.addApp(stranger, 'stranger-secret');
    await stack.emulator.control.configurePush({
      appid: stranger,
      url: `${stack.server.url}/wechat/events`,
      token: TOKEN,
      encodingAesKey: AES_KEY,
    });
    const delivery = await stack.emulator.control.push({
      appid: stranger,
      event: { Event: 'user_info_modified', OpenID: 'o_x', AppID: stranger },
    });
    expect(delivery.attempts[0]?.status).toBe(401);
  });

  it('a plain push to the safe-mode server, and an encrypted one to the plain server: 401', async () => {
    const server = await plainServer();
    await pushVia(stack.server.url, 'json', 'plain');
    const toSafe = await stack.emulator.control.push({ appid: APP.appid, event: {} });
    expect(toSafe.attempts[0]?.status).toBe(401);
    await pushVia(server.url, 'json', 'safe');
    const toPlain = await stack.emulator.control.push({ appid: APP.appid, event: {} });
    expect(toPlain.attempts[0]?.status).toBe(401);
  });

  it('a replayed push is answered success and applied once; plain mode keeps the first body', async () => {
    // Safe mode: the same request twice (a retry) leaves what one did.
    const user = await profiledUser();
    await pushVia(stack.server.url, 'json', 'safe');
    const built = await stack.emulator.control.buildPush({
      appid: APP.appid,
      event: revoke(user.openid, '19'),
    });
    for (let i = 0; i < 2; i += 1) {
      const response = await fetch(built.url, {
        method: 'POST',
        headers: { 'content-type': built.contentType },
        body: built.body,
      });
      expect(await response.text()).toBe('success');
    }
    const me = await user.me();
    expect(me).not.toHaveProperty('nickname');
    expect(me.avatarUrl).toBe(user.avatarUrl);

    // Plain mode: a captured URL cannot carry another body (here: delete the account).
    const server = await plainServer();
    const victim = await profiledUser(server.url);
    await pushVia(server.url, 'json', 'plain');
    const captured = await stack.emulator.control.buildPush({
      appid: APP.appid,
      event: revoke(victim.openid, '19'),
    });
    const post = (body: string) =>
      fetch(captured.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    expect(await (await post(captured.body)).text()).toBe('success');
    const forged = JSON.stringify({
      Event: 'user_authorization_cancellation',
      OpenID: victim.openid,
      AppID: APP.appid,
    });
    expect(await (await post(forged)).text()).toBe('success');
    const after = await victim.call('GET', '/me');
    expect(after.status).toBe(200);
    expect(after.body.user).not.toHaveProperty('nickname');
    expect(after.body.user).not.toHaveProperty('deletion');
  });

  it('a body that is neither JSON nor XML is 400 once the signature checks', async () => {
    const server = await plainServer();
    await pushVia(server.url, 'json', 'plain');
    const built = await stack.emulator.control.buildPush({ appid: APP.appid, event: {} });
    const response = await fetch(built.url, { method: 'POST', body: 'hello' });
    expect(response.status).toBe(400);
  });
});
