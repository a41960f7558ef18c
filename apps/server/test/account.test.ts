/**
 * The account's life over HTTP, against the real server and emulator processes: export, the
 * device list, the privacy consent, and deletion with its cooling-off period. The server's clock
 * is moved (support/shifted-clock.mjs) to reach deleteAt without waiting a week.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ServerProcess } from './support/processes.js';
import { readEmbeddedCollection } from './support/processes.js';
import { APP, type Stack, useStack } from './support/stack.js';
import type { StoreCollection } from '@wxlogin/wechat-core';

const DAY = 24 * 3600_000;
const anyString: unknown = expect.any(String);
const anything: unknown = expect.anything();
const CLOCK_PRELOAD = pathToFileURL(join(import.meta.dirname, 'support', 'shifted-clock.mjs')).href;

function clockedStack(sweepIntervalMs: number): {
  stack: Stack;
  shift: (ms: number) => Promise<void>;
} {
  const file = join(
    tmpdir(),
    `wxlogin-clock-${process.pid}-${sweepIntervalMs}-${Math.random().toString(16).slice(2)}`,
  );
  const stack = useStack({
    env: {
      NODE_OPTIONS: `--import=${CLOCK_PRELOAD}`,
      WXLOGIN_TEST_CLOCK_FILE: file,
      ACCOUNT_SWEEP_INTERVAL_MS: String(sweepIntervalMs),
      // The races below send 50 requests of one user at once (limits.test.ts covers the limits).
      LOGIN_LIMIT_PER_MINUTE: '0',
      ACCOUNT_LIMIT_PER_HOUR: '0',
    },
  });
  /** Moves the server's clock to `ms` after the real time, and waits until it did. */
  const shift = async (ms: number) => {
    await writeFile(file, String(ms));
    const server: ServerProcess = stack.server;
    const seen = server.output().split(`clock offset ${ms}\n`).length;
    process.kill(server.pid, 'SIGUSR2');
    for (
      let i = 0;
      i < 200 && server.output().split(`clock offset ${ms}\n`).length === seen;
      i += 1
    )
      await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { stack, shift };
}

const { stack, shift } = clockedStack(200);
/** A second stack whose sweep never runs during the test: erasure at login is on its own. */
const { stack: lazy, shift: lazyClock } = clockedStack(86_400_000);

async function png(): Promise<Uint8Array> {
  return sharp({ create: { width: 16, height: 16, channels: 3, background: '#0a0' } })
    .png()
    .toBuffer();
}

/** Every stored document (and avatar file) that mentions the user. */
async function recordsOf(on: Stack, userId: string): Promise<string[]> {
  const found: string[] = [];
  const collections: StoreCollection[] = ['users', 'identities', 'sessions', 'rewards', 'consents'];
  for (const name of collections) {
    for (const doc of await readEmbeddedCollection(on.dataDir, name))
      if (JSON.stringify(doc).includes(userId)) found.push(`${name}:${String(doc._id)}`);
  }
  return found;
}

async function avatarFiles(on: Stack): Promise<string[]> {
  try {
    return await readdir(join(on.dataDir, 'avatars'));
  } catch {
    return [];
  }
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A user with something in every collection: profile, avatar, phone, reward, consent. */
async function fullUser(on: Stack) {
  const first = await on.login();
  const second = await on.login(first.openid); // a second device
  const upload = await on.uploadAvatar(first.token, [{ bytes: await png(), type: 'image/png' }]);
  expect(upload.status).toBe(200);
  const profile = await on.api('POST', '/userinfo', {
    token: first.token,
    body: { nickname: '小明', avatarUrl: upload.body.avatarUrl },
  });
  expect(profile.status).toBe(200);
  const { codes } = await on.emulator.control.mintPhoneCodes({
    appid: APP.appid,
    openid: first.openid,
    purePhoneNumber: '13700001111',
  });
  expect(
    (await on.api('POST', '/phone', { token: first.token, body: { code: codes[0] } })).status,
  ).toBe(200);
  expect((await on.api('POST', '/rewards/welcome', { token: first.token })).status).toBe(200);
  const consent = await on.api('POST', '/me/consent', {
    token: first.token,
    body: { kind: 'privacy', version: '2026-11', agreedAt: new Date().toISOString() },
  });
  expect(consent.status).toBe(200);
  on.watchForLeaks('13700001111');
  return { ...first, second, avatarUrl: upload.body.avatarUrl as string };
}

describe('GET /me/export', () => {
  it('answers everything stored about the caller as a download, and no secret', async () => {
    const user = await fullUser(stack);
    const other = await stack.login();
    const answer = await fetch(`${stack.server.url}/me/export`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('content-disposition')).toMatch(
      /^attachment; filename="wxlogin-export-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const text = await answer.text();
    const data = JSON.parse(text) as Record<string, unknown> & {
      user: Record<string, unknown>;
      identities: Record<string, unknown>[];
      sessions: Record<string, unknown>[];
      rewards: unknown[];
      consents: Record<string, unknown>[];
      avatars: Record<string, unknown>[];
    };
    expect(data.user).toMatchObject({
      id: user.userId,
      nickname: '小明',
      avatarUrl: user.avatarUrl,
      phone: { purePhoneNumber: '13700001111', countryCode: '86' },
    });
    expect(data.user.phoneVerifiedAt).toEqual(anyString);
    expect(data.identities).toEqual([
      { appid: APP.appid, openid: user.openid, createdAt: anyString },
    ]);
    expect(data.sessions.map((s) => s.id).sort()).toEqual(
      [user.token, user.second.token].map((t) => t.split('.')[0]).sort(),
    );
    for (const session of data.sessions)
      expect(Object.keys(session).sort()).toEqual([
        'appid',
        'createdAt',
        'expiresAt',
        'id',
        'lastSeenAt',
      ]);
    expect(data.rewards).toEqual([{ kind: 'welcome', grantedAt: anyString }]);
    expect(data.consents).toEqual([
      (expect.objectContaining as (o: object) => unknown)({
        kind: 'privacy',
        version: '2026-11',
        appid: APP.appid,
      }),
    ]);
    expect(data.avatars).toEqual([{ id: user.avatarUrl.split('/').pop(), uploadedAt: anyString }]);
    // No token, no token secret, no session_key, nothing of the other user.
    for (const token of [user.token, user.second.token]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[1]);
    }
    expect(text).not.toMatch(/session_?key|secretHash|secret_hash/i);
    expect(text).not.toContain(other.openid);
    expect(text).not.toContain(other.userId);
  });

  it('is 401 without a session', async () => {
    const answer = await stack.api('GET', '/me/export');
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('unauthorized');
  });
});

describe('GET and DELETE /me/sessions, POST /me/sessions/end-others', () => {
  it('lists the devices, marks this one, and ends another', async () => {
    const phone = await stack.login();
    const tablet = await stack.login(phone.openid);
    const list = await stack.api('GET', '/me/sessions', { token: phone.token });
    expect(list.status).toBe(200);
    const sessions = list.body.sessions as { id: string; current: boolean; appid: string }[];
    const phoneId = phone.token.split('.')[0] as string;
    const tabletId = tablet.token.split('.')[0] as string;
    expect(sessions.map((s) => s.id).sort()).toEqual([phoneId, tabletId].sort());
    expect(sessions.find((s) => s.id === phoneId)).toMatchObject({
      current: true,
      appid: APP.appid,
    });
    expect(sessions.find((s) => s.id === tabletId)).toMatchObject({ current: false });
    expect(Object.keys(sessions[0] ?? {}).sort()).toEqual([
      'appid',
      'createdAt',
      'current',
      'id',
      'lastSeenAt',
    ]);

    const ended = await stack.api('DELETE', `/me/sessions/${tabletId}`, { token: phone.token });
    expect(ended.status).toBe(204);
    expect((await stack.api('GET', '/me', { token: tablet.token })).status).toBe(401);
    expect((await stack.api('GET', '/me', { token: phone.token })).status).toBe(200);
    const again = await stack.api('DELETE', `/me/sessions/${tabletId}`, { token: phone.token });
    expect(again.status).toBe(404);
    expect(again.body.error?.code).toBe('not_found');
  });

  it("ends every other device in one request, and no other user's", async () => {
    const phone = await stack.login();
    const tablet = await stack.login(phone.openid);
    const laptop = await stack.login(phone.openid);
    const stranger = await stack.login();
    const ended = await stack.api('POST', '/me/sessions/end-others', { token: phone.token });
    expect(ended.status).toBe(200);
    expect(ended.body).toEqual({ ended: 2 });
    expect((await stack.api('GET', '/me', { token: tablet.token })).status).toBe(401);
    expect((await stack.api('GET', '/me', { token: laptop.token })).status).toBe(401);
    expect((await stack.api('GET', '/me', { token: phone.token })).status).toBe(200);
    expect((await stack.api('GET', '/me', { token: stranger.token })).status).toBe(200);
    const list = await stack.api('GET', '/me/sessions', { token: phone.token });
    expect((list.body.sessions as { current: boolean }[]).map((s) => s.current)).toEqual([true]);
    const again = await stack.api('POST', '/me/sessions/end-others', { token: phone.token });
    expect(again.body).toEqual({ ended: 0 });
  });

  it("refuses another user's session as not_found, and it keeps working", async () => {
    const alice = await stack.login();
    const mallory = await stack.login();
    const aliceId = alice.token.split('.')[0] as string;
    const answer = await stack.api('DELETE', `/me/sessions/${aliceId}`, { token: mallory.token });
    expect(answer.status).toBe(404);
    expect(answer.body.error?.code).toBe('not_found');
    expect((await stack.api('GET', '/me', { token: alice.token })).status).toBe(200);
    const junk = await stack.api('DELETE', `/me/sessions/${'x'.repeat(64)}`, {
      token: mallory.token,
    });
    expect(junk.status).toBe(404);
  });
});

describe('POST /me/consent', () => {
  it('keeps the first report of an agreement and refuses a bad one', async () => {
    const user = await stack.login();
    const agreedAt = new Date(Date.now() - 60_000).toISOString();
    const body = { kind: 'privacy', version: 'v3', agreedAt };
    const first = await stack.api('POST', '/me/consent', { token: user.token, body });
    expect(first.status).toBe(200);
    expect(first.body.consent).toMatchObject({
      kind: 'privacy',
      version: 'v3',
      agreedAt,
      appid: APP.appid,
    });
    const again = await stack.api('POST', '/me/consent', { token: user.token, body });
    expect(again.body.consent).toEqual(first.body.consent);
    for (const bad of [
      { ...body, agreedAt: new Date(Date.now() + DAY).toISOString() },
      { ...body, agreedAt: 'yesterday' },
      { ...body, kind: 'marketing' },
      { ...body, version: '' },
      { ...body, extra: 1 },
    ]) {
      const answer = await stack.api('POST', '/me/consent', { token: user.token, body: bad });
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body.error?.code).toBe('bad_request');
    }
  });
});

describe('DELETE /me and the cooling-off period', () => {
  it('ends every session, tells a later login, and is cancelled only by asking', async () => {
    const user = await stack.login();
    const other = await stack.login(user.openid);
    const before = Date.now();
    const deleted = await stack.api('DELETE', '/me', { token: user.token });
    expect(deleted.status).toBe(202);
    const deletion = deleted.body.deletion as { requestedAt: string; deleteAt: string };
    const requestedAt = Date.parse(deletion.requestedAt);
    expect(requestedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(deletion.deleteAt) - requestedAt).toBe(7 * DAY);
    expect((await stack.api('GET', '/me', { token: user.token })).status).toBe(401);
    expect((await stack.api('GET', '/me', { token: other.token })).status).toBe(401);

    const back = await stack.login(user.openid);
    expect(back.answer.body).toMatchObject({ isNewUser: false, deletion });
    expect(back.userId).toBe(user.userId);
    const me = await stack.api('GET', '/me', { token: back.token });
    expect(me.body.user).toMatchObject({ deletion });
    // Asking twice keeps the first date.
    const twice = await stack.api('DELETE', '/me', { token: back.token });
    expect(twice.body.deletion).toEqual(deletion);

    const again = await stack.login(user.openid);
    const cancelled = await stack.api('POST', '/me/deletion/cancel', { token: again.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.user).toMatchObject({ id: user.userId });
    expect(cancelled.body.user).not.toHaveProperty('deletion');
    const none = await stack.api('POST', '/me/deletion/cancel', { token: again.token });
    expect(none.status).toBe(409);
    expect(none.body.error?.code).toBe('deletion_not_pending');
    const fresh = await stack.login(user.openid);
    expect(fresh.answer.body).not.toHaveProperty('deletion');
  });

  it('erases everything at deleteAt (the sweep), and the next login is a new user', async () => {
    const user = await fullUser(stack);
    const bystander = await fullUser(stack);
    expect(await recordsOf(stack, user.userId)).not.toEqual([]);
    const avatarFile = (user.avatarUrl.split('/').pop() as string) + '.';
    expect((await avatarFiles(stack)).some((f) => f.startsWith(avatarFile))).toBe(true);
    expect((await stack.api('DELETE', '/me', { token: user.token })).status).toBe(202);
    // During the cooling-off period nothing is erased.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await recordsOf(stack, user.userId)).not.toEqual([]);

    await shift(7 * DAY + 60_000);
    try {
      await waitFor(async () => (await recordsOf(stack, user.userId)).length === 0, 'the sweep');
      expect((await avatarFiles(stack)).some((f) => f.startsWith(avatarFile))).toBe(false);
      const served = await fetch(user.avatarUrl);
      expect(served.status).toBe(404);
      // The bystander keeps everything.
      const kept = await stack.api('GET', '/me/export', { token: bystander.token });
      expect(kept.body).toMatchObject({ user: { nickname: '小明', phone: anything } });
      const back = await stack.login(user.openid);
      expect(back.answer.body.isNewUser).toBe(true);
      expect(back.userId).not.toBe(user.userId);
      expect(back.answer.body).not.toHaveProperty('deletion');
      const rewarded = await stack.api('POST', '/rewards/welcome', { token: back.token });
      expect(rewarded.body.granted).toBe(true);
    } finally {
      await shift(0);
    }
  });

  it('cannot cancel once deleteAt has come', async () => {
    const user = await lazy.login();
    expect((await lazy.api('DELETE', '/me', { token: user.token })).status).toBe(202);
    const back = await lazy.login(user.openid);
    // Past deleteAt, the session from the cooling-off period cannot cancel.
    await lazyClock(7 * DAY + 1000);
    try {
      const late = await lazy.api('POST', '/me/deletion/cancel', { token: back.token });
      expect(late.status).toBe(409);
      expect(late.body.error?.code).toBe('deletion_not_pending');
    } finally {
      await lazyClock(0);
    }
  });

  it('erases a due account at its next login, even with no sweep', async () => {
    const user = await fullUser(lazy);
    expect((await lazy.api('DELETE', '/me', { token: user.token })).status).toBe(202);
    await lazyClock(8 * DAY);
    try {
      const back = await lazy.login(user.openid);
      expect(back.answer.body.isNewUser).toBe(true);
      expect(back.userId).not.toBe(user.userId);
      expect(await recordsOf(lazy, user.userId)).toEqual([]);
    } finally {
      await lazyClock(0);
    }
  });
});

describe('races', () => {
  it('100 requests: DELETE /me against logins of the same user, never half', async () => {
    const user = await stack.login();
    const tokens = [user.token];
    for (let i = 0; i < 49; i += 1) tokens.push((await stack.login(user.openid)).token);
    // WeChat exchanges at most 100 codes of one user a minute: each phase gets its own minute.
    await stack.emulator.control.advanceClock(61);
    const codes = await stack.emulator.control.mintLoginCodes({
      appid: APP.appid,
      openid: user.openid,
      count: 50,
    });
    const [deletes, logins] = await Promise.all([
      Promise.all(tokens.map((token) => stack.api('DELETE', '/me', { token }))),
      Promise.all(codes.codes.map((code) => stack.api('POST', '/login', { body: { code } }))),
    ]);
    for (const answer of deletes) expect([202, 401]).toContain(answer.status);
    expect(deletes.some((answer) => answer.status === 202)).toBe(true);
    const deleteAts = new Set(
      deletes
        .filter((a) => a.status === 202)
        .map((a) => (a.body.deletion as { deleteAt: string }).deleteAt),
    );
    expect(deleteAts.size).toBe(1);
    for (const answer of logins) expect(answer.status).toBe(200);
    for (const answer of logins) stack.watchForLeaks(answer.body.token as string);
    // Every session still alive came from a login that was told of the deletion.
    const alive = (await readEmbeddedCollection(stack.dataDir, 'sessions')).filter(
      (s) => s.userId === user.userId,
    );
    for (const session of alive) {
      const login = logins.find((a) =>
        (a.body.token as string).startsWith(`${String(session._id)}.`),
      );
      expect(login, `session ${String(session._id)} has no login`).toBeDefined();
      expect(login?.body.deletion).toEqual({
        requestedAt: anyString,
        deleteAt: [...deleteAts][0],
      });
    }
    const users = await readEmbeddedCollection(stack.dataDir, 'users');
    expect(users.filter((u) => u._id === user.userId)).toHaveLength(1);
    expect(users.find((u) => u._id === user.userId)?.deletion).toBeDefined();

    // 50 cancels from logins of the cooling-off period: exactly one cancels.
    await stack.emulator.control.advanceClock(61);
    const cancelTokens: string[] = [];
    for (let i = 0; i < 50; i += 1) cancelTokens.push((await stack.login(user.openid)).token);
    const cancels = await Promise.all(
      cancelTokens.map((token) => stack.api('POST', '/me/deletion/cancel', { token })),
    );
    expect(cancels.filter((a) => a.status === 200)).toHaveLength(1);
    expect(cancels.filter((a) => a.status === 409)).toHaveLength(49);
  });

  it('100 logins racing the erasure: the old account is gone whole, one new user remains', async () => {
    const user = await fullUser(lazy);
    expect((await lazy.api('DELETE', '/me', { token: user.token })).status).toBe(202);
    await lazyClock(8 * DAY);
    await lazy.emulator.control.advanceClock(61);
    try {
      const codes = await lazy.emulator.control.mintLoginCodes({
        appid: APP.appid,
        openid: user.openid,
        count: 100,
      });
      const logins = await Promise.all(
        codes.codes.map((code) => lazy.api('POST', '/login', { body: { code } })),
      );
      for (const answer of logins) expect(answer.status).toBe(200);
      for (const answer of logins) lazy.watchForLeaks(answer.body.token as string);
      const ids = new Set(logins.map((a) => (a.body.user as { id: string }).id));
      expect(ids.has(user.userId)).toBe(false);
      expect(ids.size).toBe(1);
      expect(logins.filter((a) => a.body.isNewUser === true)).toHaveLength(1);
      expect(await recordsOf(lazy, user.userId)).toEqual([]);
      const identities = (await readEmbeddedCollection(lazy.dataDir, 'identities')).filter(
        (i) => i.openid === user.openid,
      );
      expect(identities).toHaveLength(1);
      expect(identities[0]?.userId).toBe([...ids][0]);
      for (const answer of logins)
        expect((await lazy.api('GET', '/me', { token: answer.body.token as string })).status).toBe(
          200,
        );
    } finally {
      await lazyClock(0);
    }
  });
});
