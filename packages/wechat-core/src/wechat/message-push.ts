/**
 * WeChat's message push (消息推送), the receiving side: the URL signature, and the safe mode's
 * AES (消息加解密).
 *
 * - signature = sha1 of the sorted [Token, timestamp, nonce] joined; msg_signature adds the
 *   body's Encrypt to the sort ("不要使用signature验证" in safe mode: msg_signature covers the body).
 * - AESKey = Base64_Decode(EncodingAESKey + "="), 32 bytes; AES-256-CBC, IV = the key's first 16
 *   bytes, PKCS#7 padding to a multiple of 32 bytes; the plaintext is random(16 B) +
 *   msg_len(4 B, network order) + msg + appid, and the appid must be ours.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { WechatAuthError } from '../errors.js';

/** sha1(sort(parts).join('')), lower-case hex: `signature` and `msg_signature`. */
export function pushSignature(...parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

/** Compares a received signature (or any secret: an avatar's check key) with the expected one in constant time. */
export function signatureMatches(received: string | undefined, expected: string): boolean {
  if (received === undefined) return false;
  // Bytes, not characters: "é" is one character and two bytes (timingSafeEqual throws on
  // buffers of different lengths).
  const given = Buffer.from(received);
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** An EncodingAESKey is 43 characters of [A-Za-z0-9] (Base64 of 32 bytes without its "="). */
export function isEncodingAesKey(value: string): boolean {
  return /^[A-Za-z0-9]{43}$/.test(value);
}

function refused(message: string): WechatAuthError {
  return new WechatAuthError('unauthorized', `message push: ${message}`);
}

/**
 * The message inside a safe-mode `Encrypt`, with the appid at its end; refused (unauthorized)
 * when it does not decrypt, is malformed, or names an app that `isOurs` does not know.
 */
export function decryptPushMessage(
  encodingAesKey: string,
  encrypted: string,
  isOurs: (appid: string) => boolean,
): { message: string; appid: string } {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new Error('EncodingAESKey must decode to 32 bytes');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encrypted)) throw refused('Encrypt is not base64');
  const cipherText = Buffer.from(encrypted, 'base64');
  if (cipherText.length === 0 || cipherText.length % 32 !== 0)
    throw refused('Encrypt has a wrong length');
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false); // PKCS#7 to 32-byte blocks, not AES's 16
    plain = Buffer.concat([decipher.update(cipherText), decipher.final()]);
  } catch {
    throw refused('Encrypt does not decrypt');
  }
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > 32 || !plain.subarray(plain.length - pad).every((b) => b === pad))
    throw refused('Encrypt does not decrypt with this EncodingAESKey');
  const full = plain.subarray(0, plain.length - pad);
  if (full.length < 20) throw refused('Encrypt is too short');
  const length = full.readUInt32BE(16);
  if (20 + length > full.length) throw refused('Encrypt has a wrong message length');
  const message = full.subarray(20, 20 + length).toString('utf8');
  const appid = full.subarray(20 + length).toString('utf8');
  if (!isOurs(appid)) throw refused('the message is for another app');
  return { message, appid };
}
