/**
 * The encrypting side of WeChat's open data: what the phone receives for getUserInfo and the
 * legacy getPhoneNumber button. AES-128-CBC with PKCS#7, key = base64-decoded session_key.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

export interface EncryptedOpenData {
  encryptedData: string;
  iv: string;
}

export function encryptOpenData(sessionKey: string, payload: unknown): EncryptedOpenData {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  const plain = Buffer.from(JSON.stringify(payload), 'utf8');
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { encryptedData: encrypted.toString('base64'), iv: iv.toString('base64') };
}

/** signature = sha1(rawData + session_key), as wx.getUserInfo returns it. */
export function signRawData(rawData: string, sessionKey: string): string {
  return createHash('sha1')
    .update(rawData + sessionKey, 'utf8')
    .digest('hex');
}
