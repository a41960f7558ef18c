import { describe, expect, it } from 'vitest';
import { findLeaks } from './stack.js';

const TOKEN = 'AbCdEfGhIjKlMnOpQrSt.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
const SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ==';

describe('findLeaks', () => {
  it.each([
    ['a token in a JSON string', `{"msg":"x","auth":"Bearer ${TOKEN}"}`, TOKEN],
    ['only the secret half of a token', `{"s":"${TOKEN.split('.')[1] ?? ''}"}`, TOKEN],
    ['a session key with its padding', `{"key":"${SESSION_KEY}"}`, SESSION_KEY],
    [
      'an access token in a URL query',
      '{"url":"/wxa/x?access_token=ACCESSTOKEN123&x=1"}',
      'ACCESSTOKEN123',
    ],
    ['a phone number', '{"phone":"13900001234"}', '13900001234'],
  ])('finds %s', (_name, logs, secret) => {
    expect(findLeaks(logs, [secret, 'never-in-the-logs-value'])).toEqual([secret]);
  });

  it('finds nothing in logs that hold none of the values', () => {
    expect(
      findLeaks('{"msg":"request completed","reqId":"9fb081e6-ba3f"}', [
        TOKEN,
        SESSION_KEY,
        '13900001234',
      ]),
    ).toEqual([]);
  });
});
