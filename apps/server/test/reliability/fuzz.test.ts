/**
 * Generated bad input against the real server process: at least 2,000 bodies per route. Every
 * answer must be the 4xx envelope (or a 2xx when a body happens to be valid), never a 5xx; the
 * process stays up; rejected requests leave the store as it was.
 */
import { pushSignature } from '@wxlogin/wechat-core';
import * as fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { storeCounts } from '../support/processes.js';
import { type ApiAnswer, OA_APP, useStack } from '../support/stack.js';

const RUNS = 2000;
const PUSH_TOKEN = 'fuzzPushToken';
const stack = useStack({
  env: {
    WECHAT_OA_APPID: OA_APP.appid,
    WECHAT_OA_SECRET: OA_APP.secret,
    // Every generated body must reach validation; the limits get their own property below.
    LOGIN_LIMIT_PER_MINUTE: '0',
    USERINFO_LIMIT_PER_HOUR: '0',
    PHONE_LIMIT_PER_HOUR: '0',
    ACCOUNT_LIMIT_PER_HOUR: '0',
    WECHAT_PUSH_TOKEN: PUSH_TOKEN,
  },
});

/** Printable ASCII: what fetch accepts in a header value. */
const headerText = fc.stringMatching(/^[\x20-\x7e]{0,120}$/);

const protoPollution = fc.constantFrom(
  '{"__proto__":{"isAdmin":true}}',
  '{"code":"abc","__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"nickname":"x","__proto__":null}',
  '{"encryptedData":"AAAA","iv":"AAAA","constructor":{"prototype":{"x":1}}}',
);

const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
);

/** Bodies every JSON route must survive: raw strings of many kinds. */
function bodies(fields: string[]): fc.Arbitrary<string> {
  const field = fc.constantFrom(...fields);
  const jsonValue = fc.jsonValue({ maxDepth: 4 });
  return fc.oneof(
    jsonValue.map((v) => JSON.stringify(v)),
    fc.tuple(field, wrongType).map(([key, value]) => JSON.stringify({ [key]: value })),
    fc
      .tuple(field, fc.string({ unit: 'grapheme', maxLength: 80 }))
      .map(([key, value]) => JSON.stringify({ [key]: value })),
    fc
      .tuple(field, fc.integer({ min: 60_000, max: 90_000 }))
      .map(([key, n]) => JSON.stringify({ [key]: 'x'.repeat(n) })),
    fc
      .tuple(field, jsonValue)
      .map(([key, value]) => JSON.stringify({ [key]: { nested: [value, { deeper: value }] } })),
    fc.string({ unit: 'binary', maxLength: 120 }),
    jsonValue
      .map((v) => JSON.stringify({ [fields[0] ?? 'x']: 'abc', v }))
      .chain((text) =>
        fc.nat({ max: Math.max(0, text.length - 2) }).map((cut) => text.slice(0, cut + 1)),
      ),
    fc
      .record({ encryptedData: fc.string({ maxLength: 60 }), iv: fc.string({ maxLength: 30 }) })
      .map((v) => JSON.stringify(v)),
    fc.base64String({ maxLength: 64 }).map((b) => JSON.stringify({ encryptedData: b, iv: b })),
    protoPollution,
  );
}

function expectNot5xx(answer: ApiAnswer, sent: string): void {
  if (answer.status >= 500) {
    throw new Error(
      `HTTP ${answer.status} for body ${JSON.stringify(sent.slice(0, 200))}: ${JSON.stringify(answer.body)}`,
    );
  }
  if (answer.status >= 400) {
    expect(typeof answer.body.error?.code).toBe('string');
    expect(typeof answer.body.error?.message).toBe('string');
  }
}

let token = '';
let userId = '';

beforeAll(async () => {
  ({ token, userId } = await stack.login());
});

describe(`generated bad input (${RUNS} bodies per route)`, { timeout: 120_000 }, () => {
  it.each([
    ['POST', '/login', ['code']],
    ['POST', '/userinfo', ['nickname', 'avatarUrl', 'encryptedData', 'iv', 'rawData', 'signature']],
    ['POST', '/phone', ['code', 'encryptedData', 'iv']],
    ['POST', '/me/consent', ['kind', 'version', 'agreedAt']],
  ] as const)(
    '%s %s answers every body with 2xx or the 4xx envelope',
    async (method, path, fields) => {
      const before = await storeCounts(stack.dataDir);
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(bodies([...fields]), async (raw) => {
          const answer = await stack.api(method, path, { raw, token });
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          expectNot5xx(answer, raw);
        }),
        { numRuns: RUNS },
      );
      expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(RUNS);
      // Rejected bodies created no user, identity or session, and never bound a phone.
      expect(await storeCounts(stack.dataDir)).toEqual(before);
      const me = await stack.api('GET', '/me', { token });
      expect(me.status).toBe(200);
      expect((me.body.user as { id: string; phone?: unknown }).id).toBe(userId);
      expect((me.body.user as { phone?: unknown }).phone).toBeUndefined();
    },
  );

  it('past its budget, a limited route answers every generated body with 429 and Retry-After', async () => {
    const { server } = await stack.extraServer({
      LOGIN_LIMIT_PER_MINUTE: '3',
      USERINFO_LIMIT_PER_HOUR: '3',
      PHONE_LIMIT_PER_HOUR: '3',
    });
    const own = (await stack.loginOn(server.url)).body.token ?? '';
    for (const [path, fields] of [
      ['/login', ['code']],
      ['/userinfo', ['nickname', 'avatarUrl']],
      ['/phone', ['code']],
    ] as const) {
      const statuses: number[] = [];
      await fc.assert(
        fc.asyncProperty(bodies([...fields]), async (raw) => {
          const response = await fetch(`${server.url}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${own}` },
            body: raw,
          });
          statuses.push(response.status);
          const body = (await response.json()) as { error?: { code: string } };
          expect(response.status).toBeLessThan(500);
          if (response.status === 429) {
            expect(body.error?.code).toBe('rate_limited');
            expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
          }
        }),
        { numRuns: 200 },
      );
      // /login spent one of its 3 on the login above.
      const budget = path === '/login' ? 2 : 3;
      expect(statuses.filter((status) => status !== 429)).toHaveLength(budget);
      expect(statuses.slice(budget).every((status) => status === 429)).toBe(true);
    }
  });

  it.each([
    ['GET', '/me'],
    ['POST', '/logout'],
    ['POST', '/rewards/welcome'],
    ['GET', '/me/export'],
    ['GET', '/me/sessions'],
    ['DELETE', '/me'],
    ['POST', '/me/deletion/cancel'],
  ] as const)('%s %s answers generated Authorization headers with 401', async (method, path) => {
    await fc.assert(
      fc.asyncProperty(headerText, bodies(['code']), async (header, raw) => {
        const response = await fetch(`${stack.server.url}${path}`, {
          method,
          headers: { authorization: header, 'content-type': 'application/json' },
          ...(method === 'GET' ? {} : { body: raw }),
        });
        const text = await response.text();
        expect([400, 401]).toContain(response.status);
        expect((JSON.parse(text) as { error: { code: string } }).error.code).toMatch(
          /^(unauthorized|bad_request)$/,
        );
      }),
      { numRuns: RUNS },
    );
    expect((await stack.api('GET', '/me', { token })).status).toBe(200);
  });

  it('DELETE /me/sessions/:id answers generated ids with 404 and ends no session', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 90 }), async (id) => {
        const answer = await stack.api('DELETE', `/me/sessions/${encodeURIComponent(id)}`, {
          token,
        });
        expectNot5xx(answer, id);
        expect([400, 404]).toContain(answer.status);
      }),
      { numRuns: RUNS },
    );
    expect((await stack.api('GET', '/me', { token })).status).toBe(200);
  });

  it('POST /wechat/events answers generated pushes, signed or not, without a 5xx or a change', async () => {
    const before = await storeCounts(stack.dataDir);
    const meBefore = await stack.api('GET', '/me', { token });
    const signed = fc.boolean();
    const pushBody = fc.oneof(
      bodies(['Event', 'OpenID', 'AppID', 'RevokeInfo', 'Encrypt', 'trace_id']),
      fc
        .tuple(
          fc.constantFrom(
            'user_authorization_revoke',
            'user_info_modified',
            'wxa_media_check',
            'x',
          ),
          fc.string({ maxLength: 40 }),
        )
        .map(
          ([event, value]) =>
            `<xml><Event><![CDATA[${event}]]></Event><OpenID>${value}</OpenID><RevokeInfo>${value}</RevokeInfo></xml>`,
        ),
      fc.string({ maxLength: 200 }).map((value) => `<xml>${value}`),
    );
    await fc.assert(
      fc.asyncProperty(signed, fc.nat(), pushBody, async (sign, nonceSeed, raw) => {
        const timestamp = String(Math.floor(Date.now() / 1000));
        const nonce = String(nonceSeed);
        const signature = sign ? pushSignature(PUSH_TOKEN, timestamp, nonce) : 'f'.repeat(40);
        const response = await fetch(
          `${stack.server.url}/wechat/events?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`,
          { method: 'POST', headers: { 'content-type': 'text/xml' }, body: raw },
        );
        expect(response.status, raw.slice(0, 100)).toBeLessThan(500);
        // Unsigned: refused (401), or refused sooner when the body is over the size limit (400).
        if (!sign) expect([400, 401]).toContain(response.status);
      }),
      { numRuns: RUNS },
    );
    expect(await storeCounts(stack.dataDir)).toEqual(before);
    expect((await stack.api('GET', '/me', { token })).body).toEqual(meBefore.body);
  });

  /** Query strings of many kinds: known keys with odd values, repeated keys, raw junk. */
  const queries = (keys: string[]) =>
    fc.oneof(
      fc
        .array(
          fc.tuple(
            fc.constantFrom(...keys),
            fc.oneof(
              fc.string({ unit: 'grapheme', maxLength: 60 }),
              fc.constantFrom(
                '//evil.example',
                '/\\evil',
                'https://evil.example/',
                '/ok',
                'snsapi_userinfo',
              ),
              fc.stringMatching(/^[0-9a-f]{100,110}$/),
            ),
          ),
          { maxLength: 4 },
        )
        .map((pairs) => new URLSearchParams(pairs).toString()),
      fc.string({ unit: 'binary', maxLength: 80 }).map((raw) => encodeURI(raw)),
    );

  it('GET /oauth/wechat answers generated queries with a redirect to WeChat or a 400 page', async () => {
    await fc.assert(
      fc.asyncProperty(queries(['scope', 'returnTo']), async (query) => {
        const response = await fetch(`${stack.server.url}/oauth/wechat?${query}`, {
          redirect: 'manual',
        });
        await response.text();
        expect([302, 400]).toContain(response.status);
        if (response.status === 302)
          expect(response.headers.get('location')).toMatch(
            new RegExp(`^${stack.emulator.url}/connect/oauth2/authorize\\?appid=${OA_APP.appid}&`),
          );
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /oauth/wechat/callback signs nobody in on generated queries and cookies', async () => {
    const before = await storeCounts(stack.dataDir);
    await fc.assert(
      fc.asyncProperty(queries(['code', 'state']), headerText, async (query, cookie) => {
        const response = await fetch(`${stack.server.url}/oauth/wechat/callback?${query}`, {
          redirect: 'manual',
          headers: { cookie: `wxlogin_oauth=${cookie.replace(/;/g, '')}` },
        });
        const page = await response.text();
        // A state nobody signed is never accepted: no WeChat call, no session, a 400 page.
        expect(response.status).toBe(400);
        expect(page).toContain('data-error="invalid_state"');
        expect(response.headers.getSetCookie().some((c) => c.startsWith('wxlogin_session='))).toBe(
          false,
        );
      }),
      { numRuns: RUNS },
    );
    expect(await storeCounts(stack.dataDir)).toEqual(before);
    expect(await stack.emulator.control.callCount('/sns/oauth2/access_token')).toBe(0);
  });

  it('keeps the process up and healthy after all of it', async () => {
    const health = await stack.api('GET', '/healthz');
    expect(health).toMatchObject({ status: 200, body: { ok: true } });
  });
});
