import { describe, expect, it } from 'vitest';
import { readEmbeddedCollection } from './support/processes.js';
import { APP, OTHER_APP, useStack } from './support/stack.js';

// Two mini-programs of one company: the default one and OTHER_APP through WECHAT_APPS.
const stack = useStack({ env: { WECHAT_APPS: `${OTHER_APP.appid}:${OTHER_APP.secret}` } });

let seq = 0;
const unionid = () => `union-${Date.now()}-${(seq += 1)}`;

describe('several mini-programs, one user', () => {
  it('POST /login in app A and app B with the same unionid gives the same user id', async () => {
    const u = unionid();
    const a = await stack.login(undefined, { unionid: u });
    const b = await stack.login(undefined, { appid: OTHER_APP.appid, unionid: u });
    expect(b.userId).toBe(a.userId);
    expect(a.answer.body.isNewUser).toBe(true);
    expect(b.answer.body.isNewUser).toBe(false);
    // The user is one; the identities are two, one per (appid, openid).
    const identities = await readEmbeddedCollection(stack.dataDir, 'identities');
    const mine = identities.filter((i) => i.userId === a.userId);
    expect(mine.map((i) => i.appid).sort()).toEqual([APP.appid, OTHER_APP.appid].sort());
    // unionid and openid never leave the server.
    expect(JSON.stringify(b.answer.body)).not.toContain(u);
  });

  it('without a unionid the user is per app', async () => {
    const a = await stack.login();
    const b = await stack.login(undefined, { appid: OTHER_APP.appid });
    expect(b.userId).not.toBe(a.userId);
  });

  it('a session belongs to the app it was issued for', async () => {
    const b = await stack.login(undefined, { appid: OTHER_APP.appid });
    const sessions = await readEmbeddedCollection(stack.dataDir, 'sessions');
    expect(sessions.find((s) => s.userId === b.userId)?.appid).toBe(OTHER_APP.appid);
  });

  it('POST /login from an appid this server is not configured for is bad_request', async () => {
    const minted = await stack.emulator.control.mintLoginCode({ appid: APP.appid });
    const answer = await stack.api('POST', '/login', {
      body: { code: minted.code },
      headers: { 'x-wechat-appid': 'wx9999999999999999' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('bad_request');
  });

  it('links a unionid that appears later, and logs a conflict instead of merging', async () => {
    const held = unionid();
    const holder = await stack.login(undefined, { unionid: held });
    const loner = await stack.login(undefined, { appid: OTHER_APP.appid });
    // WeChat now reports, for the loner's identity, the unionid the holder already has.
    const again = await stack.login(loner.openid, { appid: OTHER_APP.appid, unionid: held });
    expect(again.userId).toBe(loner.userId);
    expect(again.userId).not.toBe(holder.userId);
    const warning = (await stack.server.waitForOutput('"unionid_conflict"'))
      .split('\n')
      .find((line) => line.includes('"unionid_conflict"'));
    expect(warning && JSON.parse(warning)).toMatchObject({
      level: 40,
      event: 'unionid_conflict',
      appid: OTHER_APP.appid,
      userId: loner.userId,
      heldByUserId: holder.userId,
    });
    expect(warning).not.toContain(held);

    // A unionid nobody holds yet is simply taken on.
    const fresh = unionid();
    const late = await stack.login(undefined, { appid: OTHER_APP.appid });
    await stack.login(late.openid, { appid: OTHER_APP.appid, unionid: fresh });
    const inAppA = await stack.login(undefined, { unionid: fresh });
    expect(inAppA.userId).toBe(late.userId);
  });
});

describe('POST /rewards/welcome', () => {
  it('grants the gift once under 20 concurrent claims from both apps', async () => {
    const u = unionid();
    const a = await stack.login(undefined, { unionid: u });
    const b = await stack.login(undefined, { appid: OTHER_APP.appid, unionid: u });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stack.api('POST', '/rewards/welcome', {
          token: i % 2 ? a.token : b.token,
          // Each app's client names its app (a session answers only for its own).
          ...(i % 2 ? {} : { headers: { 'x-wechat-appid': OTHER_APP.appid } }),
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(new Array(20).fill(200));
    const granted = answers.filter((r) => r.body.granted === true);
    expect(granted).toHaveLength(1);
    const grantedAt = granted[0]?.body.grantedAt;
    expect(typeof grantedAt).toBe('string');
    for (const r of answers) expect(r.body.grantedAt).toBe(grantedAt);

    const later = await stack.api('POST', '/rewards/welcome', {
      token: b.token,
      headers: { 'x-wechat-appid': OTHER_APP.appid },
    });
    expect(later.body).toEqual({ granted: false, grantedAt });
    const rewards = await readEmbeddedCollection(stack.dataDir, 'rewards');
    expect(rewards.filter((r) => r.userId === a.userId)).toHaveLength(1);
  });

  it('answers 401 without a session', async () => {
    const answer = await stack.api('POST', '/rewards/welcome');
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('unauthorized');
  });
});
