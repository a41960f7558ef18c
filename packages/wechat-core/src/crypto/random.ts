/** Random identifiers and secrets, all from the platform CSPRNG (crypto.getRandomValues). */
import { webcrypto } from 'node:crypto';

export function randomBase64Url(bytes: number): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(bytes))).toString('base64url');
}

/** Record ids (users, identities): 128 random bits, 22 base64url characters. */
export function newRecordId(): string {
  return randomBase64Url(16);
}
