/** Random identifiers and secrets, all from the platform CSPRNG (crypto.getRandomValues). */
import { webcrypto } from 'node:crypto';

export function randomBase64Url(bytes: number): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(bytes))).toString('base64url');
}

/** Record ids (users, identities): 128 random bits, 22 base64url characters. */
export function newRecordId(): string {
  return randomBase64Url(16);
}

/** Whether a string has the shape of a record id (safe to use as a file name). */
export function isRecordId(value: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(value);
}
