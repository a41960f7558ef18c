/**
 * The server's configuration, read from the environment once at start-up. A missing or malformed
 * setting stops start-up with one line naming it; secret values are never echoed.
 */
import { isIP } from 'node:net';
import * as z from 'zod';
import {
  type AppCredentials,
  DEFAULT_DELETION_DAYS,
  MAX_DELETION_DAYS,
  isEncodingAesKey,
} from '@wxlogin/wechat-core';
import {
  type ConnectionSettings,
  DEFAULT_CONNECTIONS,
  DEFAULT_LIMITS,
  type LimitSettings,
} from './limits.js';

export interface ServerConfig {
  /** The mini-programs served: WECHAT_APPID first (the default app), then WECHAT_APPS. */
  apps: AppCredentials[];
  /** The Official Account for web login; absent: no /oauth routes and no web page. */
  officialAccount: AppCredentials | undefined;
  /** The origin in redirect_uri; absent: http://127.0.0.1:<the port actually bound>. */
  publicUrl: string | undefined;
  /** HMAC key of the OAuth state; absent: generated once and kept under DATA_DIR. */
  oauthStateSecret: string | undefined;
  /** WeChat's message push (POST /wechat/events); absent: no such route. */
  push: { token: string; aesKey?: string | undefined } | undefined;
  wechatApiOrigin: string;
  wechatOpenOrigin: string;
  /** Deadline of one WeChat call, retries included. */
  wechatTimeoutMs: number;
  mongodbUrl: string | undefined;
  dataDir: string;
  /** How long an embedded-store write waits for another process's lock before store_unavailable. */
  sqliteBusyTimeoutMs: number;
  host: string;
  port: number;
  sessionTtlDays: number;
  /** Absolute session lifetime from login, however active the session. */
  sessionMaxDays: number;
  /** Cooling-off period of an account deletion (DELETE /me) before the account is erased. */
  accountDeletionDays: number;
  /** How often accounts whose deletion is due are erased. */
  accountSweepIntervalMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  limits: LimitSettings;
  connections: ConnectionSettings;
  /** Proxies whose X-Forwarded-For is believed; empty: none. */
  trustProxy: string[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') && url.pathname === '/' && !url.search
    );
  } catch {
    return false;
  }
}, 'must be an http(s) origin such as https://api.weixin.qq.com');

const intIn = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `must be from ${min} to ${max}`)
        .max(max, `must be from ${min} to ${max}`),
    );

/** Variables whose value must never be printed, even when malformed. */
const SECRET_KEYS = new Set([
  'WECHAT_SECRET',
  'WECHAT_APPS',
  'WECHAT_OA_SECRET',
  'OAUTH_STATE_SECRET',
  'MONGODB_URL',
  'WECHAT_PUSH_TOKEN',
  'WECHAT_PUSH_AES_KEY',
]);

const APPID = /^wx[0-9A-Za-z]{16}$/;
const APPID_MESSAGE = 'must look like wx followed by 16 letters or digits';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/**
 * Non-public IPv4 ranges: private (RFC 1918), shared/CGNAT (RFC 6598, e.g. Tailscale) and
 * link-local: a development machine on the LAN, for real-device preview.
 */
const PRIVATE_IPV4 =
  /^(?:10\.\d+|172\.(?:1[6-9]|2\d|3[01])|192\.168|100\.(?:6[4-9]|[7-9]\d|1[01]\d|12[0-7])|169\.254)\.\d+\.\d+$/;

/** Whether HOST listens on this machine only (then the default PUBLIC_URL reaches it). */
function isLocalHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host === '::1';
}

/** Whether plain http is acceptable for a URL: this machine, or a private LAN address. */
export function isLocalUrl(value: string): boolean {
  const host = new URL(value).hostname;
  return LOOPBACK_HOSTS.has(host) || PRIVATE_IPV4.test(host);
}

/** An IP address, or a CIDR block (`10.0.0.0/8`, `fd00::/8`) with a prefix its family allows. */
function isAddressOrCidr(value: string): boolean {
  const [address = '', prefix, extra] = value.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** `appid:secret,appid:secret`: more mini-programs. */
const appList = z.string().transform((value, ctx) => {
  const apps: AppCredentials[] = [];
  for (const entry of value.split(',').map((e) => e.trim())) {
    const colon = entry.indexOf(':');
    const appid = entry.slice(0, colon);
    const secret = entry.slice(colon + 1);
    if (colon < 0 || !APPID.test(appid) || secret === '' || /\s/.test(secret)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be appid:secret pairs separated by commas (entry ${apps.length + 1} is not)`,
      });
      return z.NEVER;
    }
    apps.push({ appid, secret });
  }
  return apps;
});

const schema = z.object({
  WECHAT_APPID: z.string({ error: 'is required' }).regex(APPID, APPID_MESSAGE),
  WECHAT_SECRET: z.string({ error: 'is required' }).min(1, 'is required'),
  WECHAT_APPS: appList.optional(),
  WECHAT_OA_APPID: z.string().regex(APPID, APPID_MESSAGE).optional(),
  WECHAT_OA_SECRET: z.string().min(1).optional(),
  PUBLIC_URL: origin.optional(),
  /** Development only (`LAN=1 npm start` on a machine without a private address). */
  ALLOW_HTTP_PUBLIC_URL: z.enum(['0', '1']).default('0'),
  OAUTH_STATE_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // The message-push configuration's Token (英文或数字, 3-32) and EncodingAESKey (43 characters).
  WECHAT_PUSH_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9]{3,32}$/, 'must be 3 to 32 letters or digits, as in the admin console')
    .optional(),
  WECHAT_PUSH_AES_KEY: z
    .string()
    .refine(isEncodingAesKey, 'must be the 43-character EncodingAESKey from the admin console')
    .optional(),
  WECHAT_API_ORIGIN: origin.default('https://api.weixin.qq.com'),
  WECHAT_OPEN_ORIGIN: origin.default('https://open.weixin.qq.com'),
  WECHAT_TIMEOUT_MS: intIn(100, 60_000).default(5000),
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// connection string')
    .optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  SQLITE_BUSY_TIMEOUT_MS: intIn(0, 60_000).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intIn(0, 65_535).default(3000),
  SESSION_TTL_DAYS: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a positive number of days')
    .transform(Number)
    .pipe(
      z.number().positive('must be a positive number of days').max(365, 'must be at most 365 days'),
    )
    .default(30),
  SESSION_MAX_DAYS: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a positive number of days')
    .transform(Number)
    .pipe(
      z
        .number()
        .positive('must be a positive number of days')
        .max(3650, 'must be at most 3650 days'),
    )
    .default(90),
  ACCOUNT_DELETION_DAYS: intIn(0, MAX_DELETION_DAYS).default(DEFAULT_DELETION_DAYS),
  ACCOUNT_SWEEP_INTERVAL_MS: intIn(100, 86_400_000).default(600_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOGIN_LIMIT_PER_MINUTE: intIn(0, 1_000_000).default(DEFAULT_LIMITS.loginPerMinute),
  LOGIN_CONCURRENCY: intIn(1, 10_000).default(DEFAULT_LIMITS.loginConcurrency),
  LOGIN_QUEUE: intIn(0, 1_000_000).default(DEFAULT_LIMITS.loginQueue),
  PHONE_LIMIT_PER_HOUR: intIn(0, 1_000_000).default(DEFAULT_LIMITS.phonePerHour),
  AVATAR_LIMIT_PER_HOUR: intIn(0, 1_000_000).default(DEFAULT_LIMITS.avatarPerHour),
  USERINFO_LIMIT_PER_HOUR: intIn(0, 1_000_000).default(DEFAULT_LIMITS.userinfoPerHour),
  ACCOUNT_LIMIT_PER_HOUR: intIn(0, 1_000_000).default(DEFAULT_LIMITS.accountPerHour),
  HEADERS_TIMEOUT_MS: intIn(100, 600_000).default(DEFAULT_CONNECTIONS.headersTimeoutMs),
  REQUEST_TIMEOUT_MS: intIn(100, 600_000).default(DEFAULT_CONNECTIONS.requestTimeoutMs),
  IDLE_TIMEOUT_MS: intIn(100, 600_000).default(DEFAULT_CONNECTIONS.idleTimeoutMs),
  MAX_CONNECTIONS: intIn(1, 1_000_000).default(DEFAULT_CONNECTIONS.maxConnections),
  TRUST_PROXY: z
    .string()
    .transform((value) => value.split(',').map((entry) => entry.trim()))
    .pipe(
      z.array(
        z
          .string()
          .refine(isAddressOrCidr, 'must list proxy addresses or CIDRs, e.g. 127.0.0.1,10.0.0.0/8'),
      ),
    )
    .optional(),
});

/** Reads the server's settings; throws ConfigError with a one-line message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): ServerConfig {
  // An empty variable counts as unset, as shells and .env files often leave them.
  const present: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') present[key] = value;
  }
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? 'environment');
    const got =
      SECRET_KEYS.has(key) || present[key] === undefined
        ? ''
        : ` (got ${JSON.stringify(present[key])})`;
    throw new ConfigError(`config: ${key} ${issue?.message ?? 'is invalid'}${got}`);
  }
  const c = parsed.data;
  const apps = [{ appid: c.WECHAT_APPID, secret: c.WECHAT_SECRET }, ...(c.WECHAT_APPS ?? [])];
  const seen = new Set<string>();
  for (const app of apps) {
    if (seen.has(app.appid))
      throw new ConfigError(`config: WECHAT_APPS lists ${app.appid} twice (or with WECHAT_APPID)`);
    seen.add(app.appid);
  }
  if (Boolean(c.WECHAT_OA_APPID) !== Boolean(c.WECHAT_OA_SECRET)) {
    const missing = c.WECHAT_OA_APPID ? 'WECHAT_OA_SECRET' : 'WECHAT_OA_APPID';
    throw new ConfigError(
      `config: ${missing} is required when ${missing === 'WECHAT_OA_SECRET' ? 'WECHAT_OA_APPID' : 'WECHAT_OA_SECRET'} is set`,
    );
  }
  if (c.WECHAT_OA_APPID && seen.has(c.WECHAT_OA_APPID))
    throw new ConfigError(
      'config: WECHAT_OA_APPID must be the Official Account, not one of the mini-programs',
    );
  if (
    c.PUBLIC_URL &&
    new URL(c.PUBLIC_URL).protocol !== 'https:' &&
    !isLocalUrl(c.PUBLIC_URL) &&
    c.ALLOW_HTTP_PUBLIC_URL !== '1'
  )
    throw new ConfigError(
      `config: PUBLIC_URL must be https:// (session cookies are Secure) unless it is this machine or a private LAN address (got ${JSON.stringify(c.PUBLIC_URL)}; ALLOW_HTTP_PUBLIC_URL=1 accepts it on a development stack)`,
    );
  if (!c.PUBLIC_URL && !isLocalHost(c.HOST))
    throw new ConfigError(
      `config: PUBLIC_URL is required when HOST is ${c.HOST} (avatar links and redirect_uri are built from it, never from the request's Host)`,
    );
  if (c.WECHAT_PUSH_AES_KEY && !c.WECHAT_PUSH_TOKEN)
    throw new ConfigError('config: WECHAT_PUSH_TOKEN is required when WECHAT_PUSH_AES_KEY is set');
  if (c.HEADERS_TIMEOUT_MS > c.REQUEST_TIMEOUT_MS)
    throw new ConfigError(
      `config: HEADERS_TIMEOUT_MS must be at most REQUEST_TIMEOUT_MS (${c.HEADERS_TIMEOUT_MS} > ${c.REQUEST_TIMEOUT_MS})`,
    );
  if (c.SESSION_MAX_DAYS < c.SESSION_TTL_DAYS)
    throw new ConfigError(
      `config: SESSION_MAX_DAYS must be at least SESSION_TTL_DAYS (${c.SESSION_MAX_DAYS} < ${c.SESSION_TTL_DAYS})`,
    );
  return {
    apps,
    officialAccount:
      c.WECHAT_OA_APPID && c.WECHAT_OA_SECRET
        ? { appid: c.WECHAT_OA_APPID, secret: c.WECHAT_OA_SECRET }
        : undefined,
    publicUrl: c.PUBLIC_URL?.replace(/\/$/, ''),
    oauthStateSecret: c.OAUTH_STATE_SECRET,
    push: c.WECHAT_PUSH_TOKEN
      ? {
          token: c.WECHAT_PUSH_TOKEN,
          aesKey: c.WECHAT_PUSH_AES_KEY || undefined,
        }
      : undefined,
    wechatApiOrigin: c.WECHAT_API_ORIGIN,
    wechatOpenOrigin: c.WECHAT_OPEN_ORIGIN,
    wechatTimeoutMs: c.WECHAT_TIMEOUT_MS,
    mongodbUrl: c.MONGODB_URL,
    dataDir: c.DATA_DIR,
    sqliteBusyTimeoutMs: c.SQLITE_BUSY_TIMEOUT_MS,
    host: c.HOST,
    port: c.PORT,
    sessionTtlDays: c.SESSION_TTL_DAYS,
    sessionMaxDays: c.SESSION_MAX_DAYS,
    accountDeletionDays: c.ACCOUNT_DELETION_DAYS,
    accountSweepIntervalMs: c.ACCOUNT_SWEEP_INTERVAL_MS,
    logLevel: c.LOG_LEVEL,
    limits: {
      loginPerMinute: c.LOGIN_LIMIT_PER_MINUTE,
      loginConcurrency: c.LOGIN_CONCURRENCY,
      loginQueue: c.LOGIN_QUEUE,
      phonePerHour: c.PHONE_LIMIT_PER_HOUR,
      avatarPerHour: c.AVATAR_LIMIT_PER_HOUR,
      userinfoPerHour: c.USERINFO_LIMIT_PER_HOUR,
      accountPerHour: c.ACCOUNT_LIMIT_PER_HOUR,
    },
    connections: {
      headersTimeoutMs: c.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: c.REQUEST_TIMEOUT_MS,
      idleTimeoutMs: c.IDLE_TIMEOUT_MS,
      maxConnections: c.MAX_CONNECTIONS,
    },
    trustProxy: c.TRUST_PROXY ?? [],
  };
}
