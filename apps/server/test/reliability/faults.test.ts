/**
 * The fault matrix: each upstream call the server makes × each fault the emulator can inject.
 * The answer is the documented error code or a successful retry, and a failure leaves no
 * session, user or phone half-written.
 */
import type { FaultSpec } from '@wxlogin/wechat-emulator';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../../src/envelope.js';
import { type ServerProcess, storeCounts } from '../support/processes.js';
import { APP, useStack } from '../support/stack.js';

const stack = useStack();

type Upstream = 'code2Session' | 'stable_token' | 'getuserphonenumber';
type Expected = 'ok' | keyof typeof HTTP_STATUS;

const PATHS: Record<Upstream, string> = {
  code2Session: '/sns/jscode2session',
  stable_token: '/cgi-bin/stable_token',
  getuserphonenumber: '/wxa/business/getuserphonenumber',
};

/** A fault without its path; distributes over the union so each kind keeps its own fields. */
type FaultShape = FaultSpec extends infer F
  ? F extends FaultSpec
    ? Omit<F, 'path'>
    : never
  : never;
const FAULTS: [string, FaultShape, Record<Upstream, Expected>][] = [
  [
    '-1 once',
    { kind: 'errcode', errcode: -1, times: 1 },
    { code2Session: 'ok', stable_token: 'ok', getuserphonenumber: 'ok' },
  ],
  [
    '-1 every time',
    { kind: 'errcode', errcode: -1, times: 'always' },
    {
      code2Session: 'wechat_unavailable',
      stable_token: 'wechat_unavailable',
      getuserphonenumber: 'wechat_unavailable',
    },
  ],
  [
    '45011',
    { kind: 'errcode', errcode: 45011 },
    {
      code2Session: 'rate_limited',
      stable_token: 'rate_limited',
      getuserphonenumber: 'rate_limited',
    },
  ],
  [
    'HTTP 500',
    { kind: 'http_500' },
    {
      code2Session: 'wechat_unavailable',
      stable_token: 'wechat_unavailable',
      getuserphonenumber: 'wechat_unavailable',
    },
  ],
  [
    'a non-JSON answer',
    { kind: 'non_json' },
    {
      code2Session: 'wechat_unavailable',
      stable_token: 'wechat_unavailable',
      getuserphonenumber: 'wechat_unavailable',
    },
  ],
  [
    'no answer',
    { kind: 'hang' },
    {
      code2Session: 'wechat_timeout',
      stable_token: 'wechat_timeout',
      getuserphonenumber: 'wechat_timeout',
    },
  ],
  [
    '40001 mid-flight',
    { kind: 'errcode', errcode: 40001 },
    {
      code2Session: 'wechat_unavailable',
      stable_token: 'wechat_unavailable',
      getuserphonenumber: 'ok',
    },
  ],
];

const CASES = FAULTS.flatMap(([name, fault, expected]) =>
  (Object.keys(PATHS) as Upstream[]).map(
    (upstream) => [upstream, name, fault, expected[upstream]] as const,
  ),
);

async function post(server: ServerProcess, path: string, body: unknown, token?: string) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & { error?: { code: string } },
  };
}

function expectOutcome(
  answer: { status: number; body: { error?: { code: string } } },
  expected: Expected,
): void {
  if (expected === 'ok') {
    expect(answer.status).toBe(200);
  } else {
    expect(answer.body.error?.code).toBe(expected);
    expect(answer.status).toBe(HTTP_STATUS[expected]);
  }
}

describe('fault matrix', { timeout: 30_000 }, () => {
  it.each(CASES)('%s with %s', async (upstream, _name, fault, expected) => {
    const { control } = stack.emulator;
    await control.clearFaults();
    // A server of its own: an empty token cache, so stable_token is really called.
    const { server, dataDir } = await stack.extraServer({});
    try {
      const minted = await control.mintLoginCode({ appid: APP.appid });
      if (upstream === 'code2Session') {
        await control.injectFault({ path: PATHS[upstream], ...fault });
        const before = await storeCounts(dataDir);
        const answer = await post(server, '/login', { code: minted.code });
        expectOutcome(answer, expected);
        if (expected !== 'ok') expect(await storeCounts(dataDir)).toEqual(before);
        else stack.watchForLeaks(answer.body.token as string, minted.sessionKey);
        return;
      }
      const login = await post(server, '/login', { code: minted.code });
      const token = login.body.token as string;
      stack.watchForLeaks(token, minted.sessionKey);
      const { codes } = await control.mintPhoneCodes({
        appid: APP.appid,
        purePhoneNumber: '13800009999',
      });
      await control.injectFault({ path: PATHS[upstream], ...fault });
      const before = await storeCounts(dataDir);
      const answer = await post(server, '/phone', { code: codes[0] }, token);
      expectOutcome(answer, expected);
      const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      const phone = ((await me.json()) as { user: { phone?: { purePhoneNumber: string } } }).user
        .phone;
      if (expected === 'ok') expect(phone?.purePhoneNumber).toBe('13800009999');
      else expect(phone).toBeUndefined();
      expect(await storeCounts(dataDir)).toEqual(before);
    } finally {
      await control.clearFaults();
      await server.stop();
    }
  });
});
