/**
 * Session tokens: `<id>.<secret>`. The id (120 bits) finds the record by its primary key; the
 * secret (256 bits) proves possession. Only SHA-256(secret) is stored, so a leaked database holds
 * no usable token, and the check is constant-time. Nothing is derived from openid, time or
 * session_key: both halves come from crypto.getRandomValues.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBase64Url } from './random.js';

const ID_BYTES = 15;
const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^([A-Za-z0-9_-]{20})\.([A-Za-z0-9_-]{43})$/;

export interface NewSessionToken {
  token: string;
  id: string;
  secretHash: Uint8Array;
}

export function hashSecret(secret: string): Uint8Array {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function createSessionToken(): NewSessionToken {
  const id = randomBase64Url(ID_BYTES);
  const secret = randomBase64Url(SECRET_BYTES);
  return { token: `${id}.${secret}`, id, secretHash: hashSecret(secret) };
}

/** Splits a token; undefined for anything not of the exact shape. */
export function parseSessionToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  if (!match?.[1] || !match[2]) return undefined;
  return { id: match[1], secret: match[2] };
}

export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  const actual = hashSecret(secret);
  return actual.length === storedHash.length && timingSafeEqual(actual, storedHash);
}
