/**
 * Open-data decryption and rawData signatures for getUserInfo and the legacy phone button.
 * Two failure kinds are kept apart on purpose:
 * - invalid_encrypted_data: the input is malformed (not base64, wrong iv or key length, ciphertext
 *   not whole blocks) or decrypts to another app's data or a forged signature: resending won't help.
 * - session_key_stale: well-formed input that does not decrypt to padded JSON with our key; the
 *   phone's session_key rotated after a wx.login our server never saw: log in again, then resend.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { WechatAuthError } from '../errors.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const AES_BLOCK = 16;

/** Decodes canonical base64 only (Buffer.from would silently skip junk characters). */
export function decodeBase64Strict(value: string): Buffer | undefined {
  if (value.length === 0 || !BASE64.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}

function malformed(message: string): WechatAuthError {
  return new WechatAuthError('invalid_encrypted_data', message);
}

function stale(): WechatAuthError {
  return new WechatAuthError(
    'session_key_stale',
    'the data does not decrypt with the current session_key: call wx.login again, then resend',
  );
}

/** Strict PKCS#7: 1..16 bytes of padding, every one equal to its count. */
function unpad(data: Buffer): Buffer | undefined {
  const pad = data[data.length - 1];
  if (pad === undefined || pad < 1 || pad > AES_BLOCK || pad > data.length) return undefined;
  for (let i = data.length - pad; i < data.length; i += 1) {
    if (data[i] !== pad) return undefined;
  }
  return data.subarray(0, data.length - pad);
}

export interface DecryptOpenDataInput {
  /** The session_key as code2Session issued it (base64 of 16 bytes). */
  sessionKey: string;
  encryptedData: string;
  iv: string;
  /** Our appid: the decrypted watermark must name it. */
  appid: string;
}

/** Decrypts open data (AES-128-CBC, PKCS#7) and checks its watermark; returns the parsed object. */
export function decryptOpenData(input: DecryptOpenDataInput): Record<string, unknown> {
  const key = decodeBase64Strict(input.sessionKey);
  if (!key || key.length !== 16) {
    // Our own stored key is unusable: the user must log in again to get a fresh one.
    throw stale();
  }
  const iv = decodeBase64Strict(input.iv);
  if (!iv || iv.length !== AES_BLOCK) throw malformed('iv must be base64 of 16 bytes');
  const data = decodeBase64Strict(input.encryptedData);
  if (!data || data.length % AES_BLOCK !== 0) {
    throw malformed('encryptedData must be base64 of whole 16-byte blocks');
  }
  const decipher = createDecipheriv('aes-128-cbc', key, iv);
  decipher.setAutoPadding(false);
  const plain = unpad(Buffer.concat([decipher.update(data), decipher.final()]));
  if (!plain) throw stale();
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
  } catch {
    throw stale();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw stale();
  const record = parsed as Record<string, unknown>;
  const watermark = record.watermark as { appid?: unknown } | undefined;
  if (watermark?.appid !== input.appid) {
    throw malformed('the data was issued for another app (watermark appid mismatch)');
  }
  return record;
}

/** signature = sha1(rawData + session_key), compared in constant time. */
export function verifyRawDataSignature(
  rawData: string,
  signature: string,
  sessionKey: string,
): boolean {
  const expected = createHash('sha1')
    .update(rawData + sessionKey, 'utf8')
    .digest();
  if (!/^[0-9a-f]{40}$/i.test(signature)) return false;
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
