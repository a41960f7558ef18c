import { describe, expect, it } from 'vitest';
import {
  createSessionToken,
  hashSecret,
  parseSessionToken,
  secretMatches,
} from './session-token.js';

describe('createSessionToken', () => {
  it('makes <id>.<secret> with >= 80-bit id and >= 256-bit secret, storing only the hash', () => {
    const { token, id, secretHash } = createSessionToken();
    const parts = parseSessionToken(token);
    expect(parts?.id).toBe(id);
    expect(Buffer.from(id, 'base64url').length * 8).toBeGreaterThanOrEqual(80);
    expect(Buffer.from(parts?.secret ?? '', 'base64url').length * 8).toBeGreaterThanOrEqual(256);
    expect(Buffer.from(secretHash)).toEqual(Buffer.from(hashSecret(parts?.secret ?? '')));
    expect(Buffer.from(secretHash).toString('base64url')).not.toContain(parts?.secret);
  });

  it('never repeats itself over 10,000 tokens', () => {
    const tokens = new Set(Array.from({ length: 10_000 }, () => createSessionToken().token));
    expect(tokens.size).toBe(10_000);
  });
});

describe('parseSessionToken', () => {
  const good = createSessionToken().token;
  it.each([
    ['empty', ''],
    ['no dot', good.replace('.', '')],
    ['two dots', `${good}.x`],
    ['short secret', good.slice(0, -1)],
    ['bad character', `${good.slice(0, -1)}=`],
    ['whitespace', ` ${good}`],
  ])('rejects a token with %s', (_name, token) => {
    expect(parseSessionToken(token)).toBeUndefined();
  });
});

describe('secretMatches', () => {
  it('matches only the original secret', () => {
    const { token, secretHash } = createSessionToken();
    const secret = token.split('.')[1] as string;
    expect(secretMatches(secret, secretHash)).toBe(true);
    const flipped = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
    expect(secretMatches(flipped, secretHash)).toBe(false);
  });
});
