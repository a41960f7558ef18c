import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WechatAuthError } from '../errors.js';
import {
  type DecryptOpenDataInput,
  decodeBase64Strict,
  decryptOpenData,
  verifyRawDataSignature,
} from './open-data.js';

// The official WXBizDataCrypt demo vector.
// @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
const OFFICIAL = {
  appid: 'wx4f4bc4dec97d474b',
  sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==',
  iv: 'r7BXXKkLb8qrSNn05n0qiA==',
  encryptedData:
    'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==',
};

// The signature example of the same page: sha1(rawData + session_key).
const SIGNATURE_VECTOR = {
  rawData:
    '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}',
  sessionKey: 'HyVFkGl5F5OQWJZZaNzBBg==',
  signature: '75e81ceda165f4ffa64f4068af58c64b8f54b88c',
};

/** Plaintext encrypted for app "wxa" under a fresh key and iv, as decryptOpenData's input. */
function sealed(plain: Buffer, autoPadding = true): DecryptOpenDataInput {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(autoPadding);
  const encryptedData = Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  return {
    sessionKey: key.toString('base64'),
    iv: iv.toString('base64'),
    encryptedData,
    appid: 'wxa',
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof WechatAuthError) return error.code;
    throw error;
  }
  return undefined;
}

describe('decryptOpenData', () => {
  it('decrypts the official WXBizDataCrypt vector', () => {
    const data = decryptOpenData(OFFICIAL);
    expect(data).toMatchObject({
      openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
      nickName: 'Band',
      gender: 1,
      city: 'Guangzhou',
      unionId: 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA',
      watermark: { appid: 'wx4f4bc4dec97d474b', timestamp: 1477314187 },
    });
  });

  it('returns invalid_encrypted_data when the watermark names another app', () => {
    expect(codeOf(() => decryptOpenData({ ...OFFICIAL, appid: 'wx0000000000000000' }))).toBe(
      'invalid_encrypted_data',
    );
  });

  it('returns session_key_stale when well-formed data does not decrypt with the key', () => {
    const otherKey = randomBytes(16).toString('base64');
    expect(codeOf(() => decryptOpenData({ ...OFFICIAL, sessionKey: otherKey }))).toBe(
      'session_key_stale',
    );
  });

  it.each([
    ['iv of 12 bytes', { iv: randomBytes(12).toString('base64') }],
    ['iv not base64', { iv: 'r7BXXKkLb8qrSNn05n0qi!==' }],
    ['encryptedData not whole blocks', { encryptedData: randomBytes(40).toString('base64') }],
    [
      'encryptedData with junk characters',
      {
        encryptedData: `${OFFICIAL.encryptedData.slice(0, 20)}*${OFFICIAL.encryptedData.slice(21)}`,
      },
    ],
    ['encryptedData empty', { encryptedData: '' }],
    ['base64 without padding', { iv: 'r7BXXKkLb8qrSNn05n0qiA' }],
  ])('returns invalid_encrypted_data for %s', (_name, override) => {
    expect(codeOf(() => decryptOpenData({ ...OFFICIAL, ...override }))).toBe(
      'invalid_encrypted_data',
    );
  });

  it('rejects padding that is not strict PKCS#7 as a stale key', () => {
    // Valid JSON followed by 6 padding bytes of which only the first is wrong (\x01 …\x06):
    // lenient unpadding would strip 6 bytes and parse fine; strict PKCS#7 must refuse.
    let body = Buffer.from(JSON.stringify({ watermark: { appid: 'wxa' }, x: '' }));
    body = Buffer.from(
      JSON.stringify({
        watermark: { appid: 'wxa' },
        x: 'y'.repeat((26 - (body.length % 16)) % 16),
      }),
    );
    const padLength = 16 - (body.length % 16);
    expect(padLength).toBe(6);
    const padding = Buffer.alloc(padLength, padLength);
    padding[0] = 1;
    expect(codeOf(() => decryptOpenData(sealed(Buffer.concat([body, padding]), false)))).toBe(
      'session_key_stale',
    );
  });

  it('rejects padded plaintext that is not a JSON object as a stale key', () => {
    expect(codeOf(() => decryptOpenData(sealed(Buffer.from('[1,2,3]'))))).toBe('session_key_stale');
  });

  it('keeps UTF-8 nicknames intact', () => {
    const plain = { nickName: '张三😀', watermark: { appid: 'wxa', timestamp: 1 } };
    const data = decryptOpenData(sealed(Buffer.from(JSON.stringify(plain))));
    expect(data.nickName).toBe('张三😀');
  });
});

describe('verifyRawDataSignature', () => {
  it('accepts the signature vector from the docs', () => {
    const { rawData, signature, sessionKey } = SIGNATURE_VECTOR;
    expect(verifyRawDataSignature(rawData, signature, sessionKey)).toBe(true);
    expect(verifyRawDataSignature(rawData, signature.toUpperCase(), sessionKey)).toBe(true);
  });

  it.each([
    ['a changed rawData', { rawData: SIGNATURE_VECTOR.rawData.replace('Band', 'Bend') }],
    ['another session_key', { sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==' }],
    ['a truncated signature', { signature: SIGNATURE_VECTOR.signature.slice(0, 39) }],
    ['a non-hex signature', { signature: 'z'.repeat(40) }],
  ])('rejects %s', (_name, override) => {
    const v = { ...SIGNATURE_VECTOR, ...override };
    expect(verifyRawDataSignature(v.rawData, v.signature, v.sessionKey)).toBe(false);
  });
});

describe('decodeBase64Strict', () => {
  it.each([
    ['', undefined],
    ['AA==', [0]],
    ['AAA=', [0, 0]],
    ['AAAA', [0, 0, 0]],
    ['A===', undefined],
    ['AA=A', undefined],
    ['AA AA', undefined],
    ['AA-_', undefined],
  ])('decodes %j as %j', (input, bytes) => {
    const decoded = decodeBase64Strict(input);
    expect(decoded === undefined ? undefined : [...decoded]).toEqual(bytes);
  });
});
