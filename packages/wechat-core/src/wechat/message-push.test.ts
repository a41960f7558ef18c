/**
 * The receiving side of message push against the official worked examples (message-push.html:
 * Token "AAAAA", EncodingAESKey "A"×43, appid wxba5fad812f8e6fb9).
 */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decryptPushMessage,
  isEncodingAesKey,
  pushSignature,
  signatureMatches,
} from './message-push.js';

const KEY = 'A'.repeat(43);
const APPID = 'wxba5fad812f8e6fb9';
// The safe-mode example of the official page, verbatim.
const ENCRYPT =
  '+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=';
const ours = (appid: string) => appid === APPID;

describe('message push signatures', () => {
  it('reproduces the documented signature and msg_signature', () => {
    expect(pushSignature('AAAAA', '1714036504', '1514711492')).toBe(
      'f464b24fc39322e44b38aa78f5edd27bd1441696',
    );
    expect(pushSignature('AAAAA', '1714037059', '486452656')).toBe(
      '899cf89e464efb63f54ddac96b0a0a235f53aa78',
    );
    expect(pushSignature('AAAAA', '1714112445', '415670741', ENCRYPT)).toBe(
      '046e02f8204d34f8ba5fa3b1db94908f3df2e9b3',
    );
    expect(
      signatureMatches(
        '046e02f8204d34f8ba5fa3b1db94908f3df2e9b3',
        pushSignature('AAAAA', '1714112445', '415670741', ENCRYPT),
      ),
    ).toBe(true);
    expect(
      signatureMatches(
        '046e02f8204d34f8ba5fa3b1db94908f3df2e9b4',
        pushSignature('AAAAA', '1714112445', '415670741', ENCRYPT),
      ),
    ).toBe(false);
    expect(signatureMatches(undefined, 'x')).toBe(false);
    expect(isEncodingAesKey(KEY)).toBe(true);
    expect(isEncodingAesKey(`${KEY}=`)).toBe(false);
  });
});

describe('decryptPushMessage', () => {
  it('decrypts the documented example and checks its appid', () => {
    const { message, appid } = decryptPushMessage(KEY, ENCRYPT, ours);
    expect(appid).toBe(APPID);
    expect(JSON.parse(message)).toEqual({
      ToUserName: 'gh_97417a04a28d',
      FromUserName: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
      CreateTime: 1714112445,
      MsgType: 'event',
      Event: 'debug_demo',
      debug_str: 'hello world',
    });
    expect(() => decryptPushMessage(KEY, ENCRYPT, () => false)).toThrow(/another app/);
  });

  it('refuses another key, a truncated or non-base64 Encrypt, and bad padding', () => {
    expect(() => decryptPushMessage('B'.repeat(43), ENCRYPT, ours)).toThrow(
      expect.objectContaining({ code: 'unauthorized' }) as Error,
    );
    expect(() => decryptPushMessage(KEY, ENCRYPT.slice(0, 40), ours)).toThrow(/length|base64/);
    expect(() => decryptPushMessage(KEY, '!!!!', ours)).toThrow(/base64/);
    // 32 bytes whose padding byte is 0: refused, never sliced into garbage.
    const key = Buffer.from(`${KEY}=`, 'base64');
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    const bad = Buffer.concat([cipher.update(Buffer.alloc(32)), cipher.final()]).toString('base64');
    expect(() => decryptPushMessage(KEY, bad, ours)).toThrow(/does not decrypt/);
  });
});
