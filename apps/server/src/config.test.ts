import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const BASE = { WECHAT_APPID: 'wx0123456789abcdef', WECHAT_SECRET: 'the-secret-value' };

function messageOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return 'no error';
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig(BASE)).toEqual({
      apps: [{ appid: BASE.WECHAT_APPID, secret: BASE.WECHAT_SECRET }],
      officialAccount: undefined,
      publicUrl: undefined,
      oauthStateSecret: undefined,
      push: undefined,
      wechatApiOrigin: 'https://api.weixin.qq.com',
      wechatOpenOrigin: 'https://open.weixin.qq.com',
      wechatTimeoutMs: 5000,
      mongodbUrl: undefined,
      dataDir: './.data',
      sqliteBusyTimeoutMs: 3000,
      host: '127.0.0.1',
      port: 3000,
      sessionTtlDays: 30,
      sessionMaxDays: 90,
      accountDeletionDays: 7,
      accountSweepIntervalMs: 600_000,
      logLevel: 'info',
      limits: {
        loginPerMinute: 300,
        loginConcurrency: 64,
        loginQueue: 256,
        phonePerHour: 10,
        avatarPerHour: 20,
        userinfoPerHour: 60,
        accountPerHour: 30,
      },
      connections: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        idleTimeoutMs: 72_000,
        maxConnections: 1_000,
      },
      trustProxy: [],
    });
  });

  it('reads the message-push Token and EncodingAESKey, never echoing them', () => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    expect(
      loadConfig({ ...BASE, WECHAT_PUSH_TOKEN: 'tok123', WECHAT_PUSH_AES_KEY: key }).push,
    ).toEqual({
      token: 'tok123',
      aesKey: key,
    });
    expect(() => loadConfig({ ...BASE, WECHAT_PUSH_AES_KEY: key })).toThrow(
      /WECHAT_PUSH_TOKEN is required/,
    );
    let message = '';
    try {
      loadConfig({ ...BASE, WECHAT_PUSH_TOKEN: 'tok123', WECHAT_PUSH_AES_KEY: `${key}=` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey/);
    expect(message).not.toContain(key);
  });

  it('keeps the cooling-off period of a deletion within the legal 15 days', () => {
    expect(loadConfig({ ...BASE, ACCOUNT_DELETION_DAYS: '15' }).accountDeletionDays).toBe(15);
    expect(loadConfig({ ...BASE, ACCOUNT_DELETION_DAYS: '0' }).accountDeletionDays).toBe(0);
    expect(() => loadConfig({ ...BASE, ACCOUNT_DELETION_DAYS: '16' })).toThrow(
      /ACCOUNT_DELETION_DAYS must be from 0 to 15/,
    );
    expect(() => loadConfig({ ...BASE, ACCOUNT_DELETION_DAYS: '7.5' })).toThrow(
      /ACCOUNT_DELETION_DAYS must be a whole number/,
    );
  });

  it('reads the limits, the connection settings and the trusted proxies', () => {
    const config = loadConfig({
      ...BASE,
      LOGIN_LIMIT_PER_MINUTE: '0',
      PHONE_LIMIT_PER_HOUR: '3',
      HEADERS_TIMEOUT_MS: '2000',
      REQUEST_TIMEOUT_MS: '5000',
      MAX_CONNECTIONS: '50',
      TRUST_PROXY: '127.0.0.1, 10.0.0.0/8',
    });
    expect(config.limits).toMatchObject({ loginPerMinute: 0, phonePerHour: 3 });
    expect(config.connections).toMatchObject({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 5000,
      maxConnections: 50,
    });
    expect(config.trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(() =>
      loadConfig({ ...BASE, HEADERS_TIMEOUT_MS: '9000', REQUEST_TIMEOUT_MS: '5000' }),
    ).toThrow('config: HEADERS_TIMEOUT_MS must be at most REQUEST_TIMEOUT_MS (9000 > 5000)');
    for (const bad of ['everyone', '1.2.3', '10.0.0.0/99', '::1/129', '127.0.0.1/8/8'])
      expect(() => loadConfig({ ...BASE, TRUST_PROXY: bad })).toThrow(/TRUST_PROXY must list/);
    expect(loadConfig({ ...BASE, TRUST_PROXY: 'fd00::/8' }).trustProxy).toEqual(['fd00::/8']);
  });

  it('accepts a plain-http public PUBLIC_URL only with ALLOW_HTTP_PUBLIC_URL=1 (development)', () => {
    const env = { ...BASE, HOST: '0.0.0.0', PUBLIC_URL: 'http://203.0.113.7:3000' };
    expect(() => loadConfig(env)).toThrow('ALLOW_HTTP_PUBLIC_URL=1 accepts it');
    expect(loadConfig({ ...env, ALLOW_HTTP_PUBLIC_URL: '1' }).publicUrl).toBe(
      'http://203.0.113.7:3000',
    );
  });

  it('needs PUBLIC_URL when the server listens beyond this machine', () => {
    expect(() => loadConfig({ ...BASE, HOST: '0.0.0.0' })).toThrow(
      'config: PUBLIC_URL is required when HOST is 0.0.0.0',
    );
    expect(
      loadConfig({ ...BASE, HOST: '0.0.0.0', PUBLIC_URL: 'http://192.168.1.20:3000' }).publicUrl,
    ).toBe('http://192.168.1.20:3000');
    expect(
      loadConfig({ ...BASE, HOST: '0.0.0.0', PUBLIC_URL: 'http://100.101.1.2:3000' }).publicUrl,
    ).toBe('http://100.101.1.2:3000');
  });

  it('reads every setting', () => {
    const config = loadConfig({
      ...BASE,
      WECHAT_API_ORIGIN: 'http://127.0.0.1:4000',
      MONGODB_URL: 'mongodb://db:27017/app',
      PORT: '8080',
      SESSION_TTL_DAYS: '7',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      wechatApiOrigin: 'http://127.0.0.1:4000',
      mongodbUrl: 'mongodb://db:27017/app',
      port: 8080,
      sessionTtlDays: 7,
      logLevel: 'warn',
    });
  });

  it('reads more mini-programs, the Official Account and the web login settings', () => {
    const config = loadConfig({
      ...BASE,
      WECHAT_APPS: 'wx1111111111111111:second-secret, wx2222222222222222:third:secret',
      WECHAT_OA_APPID: 'wx3333333333333333',
      WECHAT_OA_SECRET: 'oa-secret',
      PUBLIC_URL: 'https://login.example.com/',
      OAUTH_STATE_SECRET: 'k'.repeat(32),
    });
    expect(config).toMatchObject({
      apps: [
        { appid: BASE.WECHAT_APPID, secret: BASE.WECHAT_SECRET },
        { appid: 'wx1111111111111111', secret: 'second-secret' },
        { appid: 'wx2222222222222222', secret: 'third:secret' },
      ],
      officialAccount: { appid: 'wx3333333333333333', secret: 'oa-secret' },
      publicUrl: 'https://login.example.com',
      oauthStateSecret: 'k'.repeat(32),
    });
    expect(loadConfig({ ...BASE, PUBLIC_URL: 'http://127.0.0.1:3000' }).publicUrl).toBe(
      'http://127.0.0.1:3000',
    );
  });

  it.each([
    [
      { ...BASE, WECHAT_APPS: 'wx1111111111111111' },
      'config: WECHAT_APPS must be appid:secret pairs separated by commas (entry 1 is not)',
    ],
    [
      { ...BASE, WECHAT_APPS: `${BASE.WECHAT_APPID}:again` },
      `config: WECHAT_APPS lists ${BASE.WECHAT_APPID} twice (or with WECHAT_APPID)`,
    ],
    [
      { ...BASE, WECHAT_OA_APPID: 'wx3333333333333333' },
      'config: WECHAT_OA_SECRET is required when WECHAT_OA_APPID is set',
    ],
    [
      { ...BASE, WECHAT_OA_SECRET: 'x' },
      'config: WECHAT_OA_APPID is required when WECHAT_OA_SECRET is set',
    ],
    [
      { ...BASE, WECHAT_OA_APPID: BASE.WECHAT_APPID, WECHAT_OA_SECRET: 'x' },
      'config: WECHAT_OA_APPID must be the Official Account',
    ],
    [
      { ...BASE, PUBLIC_URL: 'http://login.example.com' },
      'config: PUBLIC_URL must be https:// (session cookies are Secure) unless it is this machine or a private LAN address',
    ],
    [
      { ...BASE, PUBLIC_URL: 'https://x.example/app' },
      'config: PUBLIC_URL must be an http(s) origin',
    ],
    [
      { ...BASE, OAUTH_STATE_SECRET: 'short' },
      'config: OAUTH_STATE_SECRET must be at least 32 characters',
    ],
    [{ WECHAT_SECRET: 'x' }, 'config: WECHAT_APPID is required'],
    [{ WECHAT_APPID: BASE.WECHAT_APPID }, 'config: WECHAT_SECRET is required'],
    [{ ...BASE, WECHAT_SECRET: '' }, 'config: WECHAT_SECRET is required'],
    [
      { ...BASE, WECHAT_APPID: 'wx123' },
      'config: WECHAT_APPID must look like wx followed by 16 letters or digits (got "wx123")',
    ],
    [
      { ...BASE, PORT: 'eighty' },
      'config: PORT must be a whole number from 0 to 65535 (got "eighty")',
    ],
    [{ ...BASE, PORT: '70000' }, 'config: PORT must be from 0 to 65535 (got "70000")'],
    [
      { ...BASE, SESSION_TTL_DAYS: '-1' },
      'config: SESSION_TTL_DAYS must be a positive number of days (got "-1")',
    ],
    [{ ...BASE, LOG_LEVEL: 'loud' }, 'config: LOG_LEVEL'],
    [
      { ...BASE, WECHAT_API_ORIGIN: 'ftp://x' },
      'config: WECHAT_API_ORIGIN must be an http(s) origin',
    ],
  ])('names the bad setting in one line: %j', (env, expected) => {
    const message = messageOf(env);
    expect(message.startsWith(expected)).toBe(true);
    expect(message).not.toContain('\n');
  });

  it('never echoes a secret value, even a malformed one', () => {
    const message = messageOf({ ...BASE, MONGODB_URL: 'postgres://user:hunter2@db' });
    expect(message).toBe(
      'config: MONGODB_URL must be a mongodb:// or mongodb+srv:// connection string',
    );
    expect(messageOf({ ...BASE, WECHAT_APPS: 'hunter2' })).not.toContain('hunter2');
    expect(messageOf({ ...BASE, OAUTH_STATE_SECRET: 'hunter2' })).not.toContain('hunter2');
  });
});
