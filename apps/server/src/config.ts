/**
 * The server's configuration, read from the environment once at start-up. A missing or malformed
 * setting stops start-up with one line naming it; secret values are never echoed.
 */
import * as z from 'zod';

export interface ServerConfig {
  app: { appid: string; secret: string };
  wechatApiOrigin: string;
  wechatOpenOrigin: string;
  /** Deadline of one WeChat call, retries included. */
  wechatTimeoutMs: number;
  mongodbUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  sessionTtlDays: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
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
const SECRET_KEYS = new Set(['WECHAT_SECRET', 'MONGODB_URL']);

const schema = z.object({
  WECHAT_APPID: z
    .string({ error: 'is required' })
    .regex(/^wx[0-9A-Za-z]{16}$/, 'must look like wx followed by 16 letters or digits'),
  WECHAT_SECRET: z.string({ error: 'is required' }).min(1, 'is required'),
  WECHAT_API_ORIGIN: origin.default('https://api.weixin.qq.com'),
  WECHAT_OPEN_ORIGIN: origin.default('https://open.weixin.qq.com'),
  WECHAT_TIMEOUT_MS: intIn(100, 60_000).default(5000),
  MONGODB_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// connection string')
    .optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
  return {
    app: { appid: c.WECHAT_APPID, secret: c.WECHAT_SECRET },
    wechatApiOrigin: c.WECHAT_API_ORIGIN,
    wechatOpenOrigin: c.WECHAT_OPEN_ORIGIN,
    wechatTimeoutMs: c.WECHAT_TIMEOUT_MS,
    mongodbUrl: c.MONGODB_URL,
    dataDir: c.DATA_DIR,
    host: c.HOST,
    port: c.PORT,
    sessionTtlDays: c.SESSION_TTL_DAYS,
    logLevel: c.LOG_LEVEL,
  };
}
