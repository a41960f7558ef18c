/**
 * Soak: SOAK_SECONDS (default 60) of mixed traffic (logins, reads, profile and phone updates,
 * logouts, invalid tokens) from concurrent clients while faults are injected into WeChat at
 * random. Afterwards: no duplicate users or identities, every token not logged out still works,
 * memory did not keep growing, and no 5xx but the mapped upstream ones (502/504).
 *
 * The limits stay at their defaults: each simulated phone has its own address (sent through a
 * trusted proxy's X-Forwarded-For), so a refusal is 429 with Retry-After only where one user or
 * one address really went over its budget, and nothing else is refused.
 */
import { describe, expect, it } from 'vitest';
import { residentBytes } from '@wxlogin/test-kit';
import { readEmbeddedCollection } from '../support/processes.js';
import { APP, useStack } from '../support/stack.js';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const WORKERS = 8;
const USERS = 150;
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31);

const stack = useStack({ env: { TRUST_PROXY: '127.0.0.1' } });

/** mulberry32: a seeded generator, so a failing run can be replayed with SOAK_SEED. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = seeded(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const openidOf = (i: number) => `oSoakUser${String(i).padStart(19, '0')}`;

/** 5xx answers that are allowed: WeChat's failures, mapped. */
const MAPPED_UPSTREAM = new Set(['502 wechat_unavailable', '504 wechat_timeout']);

interface Session {
  token: string;
  userId: string;
}

describe('soak', { timeout: (SOAK_SECONDS + 60) * 1000 }, () => {
  it(`survives ${SOAK_SECONDS} s of mixed traffic with random faults`, async () => {
    const { control } = stack.emulator;
    const url = stack.server.url;
    const userOfOpenid = new Map<string, string>();
    const violations: string[] = [];
    const statuses = new Map<string, number>();
    const loggedOut: Session[] = [];
    const perWorker: Session[][] = Array.from({ length: WORKERS }, () => []);
    const deadline = Date.now() + SOAK_SECONDS * 1000;

    let limited = 0;
    const call = async (
      method: string,
      path: string,
      token?: string,
      body?: unknown,
      client = '10.0.0.1',
    ) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          'x-forwarded-for': client,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown> & {
        error?: { code: string };
      };
      const key = `${response.status}${parsed.error ? ` ${parsed.error.code}` : ''}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (response.status >= 500 && !MAPPED_UPSTREAM.has(key))
        violations.push(`${method} ${path} -> ${key}`);
      if (response.status === 429) {
        limited += 1;
        if (!/^\d+$/.test(response.headers.get('retry-after') ?? ''))
          violations.push(`${method} ${path} -> 429 without Retry-After`);
      }
      return { status: response.status, body: parsed };
    };

    const worker = async (mine: Session[]) => {
      while (Date.now() < deadline) {
        const roll = random();
        if (roll < 0.25 || mine.length === 0) {
          const index = Math.floor(random() * USERS);
          const openid = openidOf(index);
          const { code, sessionKey } = await control.mintLoginCode({ appid: APP.appid, openid });
          // Each phone logs in from its own address.
          const answer = await call('POST', '/login', undefined, { code }, `10.1.0.${index}`);
          if (answer.status !== 200) continue;
          const session = {
            token: answer.body.token as string,
            userId: (answer.body.user as { id: string }).id,
          };
          stack.watchForLeaks(session.token, sessionKey);
          const known = userOfOpenid.get(openid);
          if (known && known !== session.userId)
            violations.push(`${openid} got user ${session.userId}, had ${known}`);
          userOfOpenid.set(openid, session.userId);
          mine.push(session);
        } else if (roll < 0.55) {
          const session = pick(mine);
          const answer = await call('GET', '/me', session.token);
          if (answer.status !== 200)
            violations.push(`GET /me with a live token -> ${answer.status}`);
        } else if (roll < 0.65) {
          const answer = await call('POST', '/userinfo', pick(mine).token, {
            nickname: `用户${Math.floor(random() * 1000)}`,
          });
          // 60 an hour per user: a busy simulated user may be told to wait. The nickname is
          // checked by WeChat first (msgSecCheck): its failures are mapped, never a 500.
          if (
            answer.status !== 200 &&
            answer.status !== 429 &&
            !MAPPED_UPSTREAM.has(`${answer.status} ${answer.body.error?.code ?? ''}`)
          )
            violations.push(`POST /userinfo -> ${answer.status}`);
        } else if (roll < 0.75) {
          const { codes, purePhoneNumber } = await control.mintPhoneCodes({
            appid: APP.appid,
            purePhoneNumber: `1390000${String(Math.floor(random() * 9999)).padStart(4, '0')}`,
          });
          stack.watchForLeaks(purePhoneNumber);
          await call('POST', '/phone', pick(mine).token, { code: codes[0] });
        } else if (roll < 0.85) {
          const index = Math.floor(random() * mine.length);
          const [session] = mine.splice(index, 1);
          if (!session) continue;
          const answer = await call('POST', '/logout', session.token);
          if (answer.status !== 204) violations.push(`POST /logout -> ${answer.status}`);
          loggedOut.push(session);
        } else {
          const token = pick(mine).token;
          const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
          const answer = await call(
            'GET',
            '/me',
            pick([forged, 'garbage', token.split('.')[0] ?? '']),
          );
          if (answer.status !== 401)
            violations.push(`GET /me with a bad token -> ${answer.status}`);
        }
      }
    };

    const faults = async () => {
      const paths = [
        '/sns/jscode2session',
        '/cgi-bin/stable_token',
        '/wxa/business/getuserphonenumber',
        '/wxa/msg_sec_check',
      ];
      while (Date.now() < deadline - 2000) {
        const path = pick(paths);
        const kind = pick(['errcode', 'errcode', 'http_500', 'non_json', 'hang'] as const);
        const times = 1 + Math.floor(random() * 3);
        if (kind === 'errcode')
          await control.injectFault({ path, kind, errcode: pick([-1, -1, 45011, 40001]), times });
        else await control.injectFault({ path, kind, times: kind === 'hang' ? 1 : times });
        await new Promise((resolve) => setTimeout(resolve, 300 + random() * 900));
      }
    };

    let rssWarm = 0;
    const sampler = (async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, SOAK_SECONDS * 200)));
      rssWarm = await residentBytes(stack.server.pid);
    })();

    await Promise.all([...perWorker.map((mine) => worker(mine)), faults(), sampler]);
    await control.clearFaults();
    const rssEnd = await residentBytes(stack.server.pid);

    const live = perWorker.flat();
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.info(
      `soak: seed ${SEED}, ${total} requests in ${SOAK_SECONDS} s, ${live.length} live and ${loggedOut.length} ended sessions, ` +
        `RSS ${(rssWarm / 2 ** 20).toFixed(1)} MiB after warm-up -> ${(rssEnd / 2 ** 20).toFixed(1)} MiB at the end; ` +
        `answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );

    expect(violations).toEqual([]);
    expect(total).toBeGreaterThan(SOAK_SECONDS * 20);
    // The limits refuse the busiest users' phone and profile updates, not the traffic at large.
    expect(limited).toBeLessThan(total * 0.2);
    // Every token not logged out still works, for its own user; every ended one is refused.
    for (const session of live) {
      const answer = await call('GET', '/me', session.token);
      expect(answer.status).toBe(200);
      expect((answer.body.user as { id: string }).id).toBe(session.userId);
    }
    for (const session of loggedOut.slice(0, 200))
      expect((await call('GET', '/me', session.token)).status).toBe(401);
    // One identity per (appid, openid), one user per identity, no orphan users.
    const identities = await readEmbeddedCollection(stack.dataDir, 'identities');
    const users = await readEmbeddedCollection(stack.dataDir, 'users');
    const keys = identities.map((doc) => `${String(doc.appid)}/${String(doc.openid)}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(identities.map((doc) => doc.userId)).size).toBe(identities.length);
    expect(users.length).toBe(identities.length);
    for (const doc of identities) {
      const seen = userOfOpenid.get(String(doc.openid));
      if (seen) expect(doc.userId).toBe(seen);
    }
    // Memory: bounded growth after warm-up (the store keeps every session in memory by design).
    expect(rssEnd).toBeLessThan(rssWarm * 1.5 + 64 * 2 ** 20);
  });
});
