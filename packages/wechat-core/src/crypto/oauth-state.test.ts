import { describe, expect, it } from 'vitest';
import {
  OAUTH_STATE_TTL_MS,
  checkOAuthState,
  createOAuthState,
  decodeStateBinding,
  encodeStateBinding,
} from './oauth-state.js';

const secret = 'a-test-only-hmac-key-of-at-least-32-bytes';
const now = new Date('2026-11-22T08:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);

describe('createOAuthState / checkOAuthState', () => {
  it('makes a state WeChat accepts (a-zA-Z0-9, at most 128 bytes) that checks out once bound', () => {
    const { state, binding } = createOAuthState('/orders?id=1', { secret, now });
    expect(state).toMatch(/^[a-zA-Z0-9]{1,128}$/);
    expect(binding.returnTo).toBe('/orders?id=1');
    expect(checkOAuthState(state, binding, { secret, now: later(1000) })).toBe('ok');
  });

  it('never makes the same state twice', () => {
    const states = new Set(
      Array.from({ length: 100 }, () => createOAuthState('/', { secret, now }).state),
    );
    expect(states.size).toBe(100);
  });

  it('answers expired for a genuine state past its lifetime', () => {
    const { state, binding } = createOAuthState('/', { secret, now });
    expect(checkOAuthState(state, binding, { secret, now: later(OAUTH_STATE_TTL_MS - 1000) })).toBe(
      'ok',
    );
    expect(checkOAuthState(state, binding, { secret, now: later(OAUTH_STATE_TTL_MS) })).toBe(
      'expired',
    );
  });

  it('rejects a state with any character changed', () => {
    const { state, binding } = createOAuthState('/', { secret, now });
    for (const index of [0, 31, 32, 39, 40, state.length - 1]) {
      const flipped = state[index] === 'a' ? 'b' : 'a';
      const forged = `${state.slice(0, index)}${flipped}${state.slice(index + 1)}`;
      expect(checkOAuthState(forged, binding, { secret, now })).toBe('invalid');
    }
  });

  it('rejects a forged expiry even when the state was genuine (the MAC covers it)', () => {
    const { state, binding } = createOAuthState('/', { secret, now });
    const pushedOut = `${state.slice(0, 32)}ffffffff${state.slice(40)}`;
    expect(checkOAuthState(pushedOut, binding, { secret, now })).toBe('invalid');
  });

  it("rejects another browser's state, a changed returnTo, a missing cookie and another key", () => {
    const mine = createOAuthState('/', { secret, now });
    const theirs = createOAuthState('/', { secret, now });
    expect(checkOAuthState(theirs.state, mine.binding, { secret, now })).toBe('invalid');
    expect(
      checkOAuthState(mine.state, { ...mine.binding, returnTo: '/admin' }, { secret, now }),
    ).toBe('invalid');
    expect(checkOAuthState(mine.state, undefined, { secret, now })).toBe('invalid');
    expect(checkOAuthState(mine.state, mine.binding, { secret: `${secret}-other`, now })).toBe(
      'invalid',
    );
  });

  it.each([undefined, '', 'abc', 42, 'Z'.repeat(104), `${'0'.repeat(104)}0`])(
    'rejects the malformed state %j',
    (state) => {
      const { binding } = createOAuthState('/', { secret, now });
      expect(checkOAuthState(state, binding, { secret, now })).toBe('invalid');
    },
  );
});

describe('encodeStateBinding / decodeStateBinding', () => {
  it('round-trips a binding, returnTo with any characters included', () => {
    const { binding } = createOAuthState('/页面?q=a b&x=1#frag', { secret, now });
    expect(decodeStateBinding(encodeStateBinding(binding))).toEqual(binding);
  });

  it.each([undefined, '', 'no-dot', 'abc.Lw', `${'g'.repeat(32)}.Lw`, `${'0'.repeat(32)}.L w`])(
    'answers undefined for the cookie value %j',
    (value) => {
      expect(decodeStateBinding(value)).toBeUndefined();
    },
  );
});
