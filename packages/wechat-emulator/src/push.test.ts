/** The sending side of message push, against the official examples and the receiving rules. */
import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MessagePush, encryptPushMessage, pushSignature } from './push.js';

const KEY = 'A'.repeat(43);

/** Decrypts as the docs tell a receiver to (message-push.html, 安全模式). */
function decrypt(encrypted: string): { message: string; appid: string; pad: number } {
  const key = Buffer.from(`${KEY}=`, 'base64');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([
    decipher.update(Buffer.from(encrypted, 'base64')),
    decipher.final(),
  ]);
  const pad = plain[plain.length - 1] as number;
  const full = plain.subarray(0, plain.length - pad);
  const length = full.readUInt32BE(16);
  return {
    message: full.subarray(20, 20 + length).toString('utf8'),
    appid: full.subarray(20 + length).toString('utf8'),
    pad,
  };
}

describe('message push (sending side)', () => {
  it('signs as the documented examples', () => {
    expect(pushSignature('AAAAA', '1714036504', '1514711492')).toBe(
      'f464b24fc39322e44b38aa78f5edd27bd1441696',
    );
  });

  it('encrypts to whole 32-byte blocks with the appid at the end', () => {
    for (const message of ['{}', 'x'.repeat(12), '中文'.repeat(50)]) {
      const encrypted = encryptPushMessage(KEY, message, 'wxba5fad812f8e6fb9');
      expect(Buffer.from(encrypted, 'base64').length % 32).toBe(0);
      const out = decrypt(encrypted);
      expect(out).toMatchObject({ message, appid: 'wxba5fad812f8e6fb9' });
      expect(out.pad).toBeGreaterThanOrEqual(1);
      expect(out.pad).toBeLessThanOrEqual(32);
    }
  });

  it('builds safe, compatible and plain bodies with the signatures over them', () => {
    const push = new MessagePush(() => 1_714_112_445_000);
    const event = { Event: 'user_info_modified', OpenID: 'o1', AppID: 'wxa' };
    const safe = push.build(
      'wxa',
      { url: 'http://x/e', token: 'AAAAA', encodingAesKey: KEY, format: 'json', mode: 'safe' },
      event,
    );
    const query = new URL(safe.url).searchParams;
    const body = JSON.parse(safe.body) as Record<string, string>;
    expect(Object.keys(body)).toEqual(['ToUserName', 'Encrypt']);
    expect(query.get('encrypt_type')).toBe('aes');
    expect(query.get('openid')).toBe('o1');
    const [timestamp, nonce] = [query.get('timestamp') ?? '', query.get('nonce') ?? ''];
    expect(timestamp).toBe('1714112445');
    expect(query.get('signature')).toBe(pushSignature('AAAAA', timestamp, nonce));
    expect(query.get('msg_signature')).toBe(
      pushSignature('AAAAA', timestamp, nonce, body.Encrypt ?? ''),
    );
    expect(JSON.parse(decrypt(body.Encrypt ?? '').message)).toMatchObject({
      ...event,
      MsgType: 'event',
      CreateTime: 1714112445,
    });

    const compat = push.build(
      'wxa',
      { url: 'http://x/e', token: 'AAAAA', encodingAesKey: KEY, format: 'xml', mode: 'compat' },
      event,
    );
    expect(compat.body).toMatch(
      /^<xml><ToUserName><!\[CDATA\[gh_\w+\]\]><\/ToUserName>.*<Event><!\[CDATA\[user_info_modified\]\]><\/Event>.*<Encrypt>/,
    );
    const plain = push.build(
      'wxa',
      { url: 'http://x/e', token: 'AAAAA', format: 'json', mode: 'plain' },
      event,
    );
    expect(new URL(plain.url).searchParams.has('msg_signature')).toBe(false);
    expect(JSON.parse(plain.body)).toMatchObject(event);
  });
});
