/**
 * WeChat's message push (消息推送), the sending side: an event for an app is POSTed to the URL its
 * message-push configuration names, signed with the Token and, in safe or compatible mode,
 * encrypted with the EncodingAESKey, in the configured format (JSON or XML).
 *
 * Reproduced from the docs:
 * - query `signature` = sha1(sorted Token, timestamp, nonce); with encryption also `openid`,
 *   `encrypt_type=aes` and `msg_signature` = sha1(sorted Token, timestamp, nonce, Encrypt).
 * - Encrypt = Base64(AES-256-CBC(random(16) + msg_len(4, big-endian) + msg + appid)), key =
 *   Base64_Decode(EncodingAESKey + "="), IV = key[0..16], PKCS#7 to a multiple of 32 bytes.
 * - Safe mode sends only ToUserName and Encrypt; compatible mode the plaintext fields and Encrypt.
 * - Anything but HTTP 200 with "success" or an empty body within 5 s is retried, three times.
 * Not reproduced: the GET URL check WeChat runs when the configuration is saved (a test calls GET
 * itself), the spacing between retries (unspecified; here at once), and dedup on WeChat's side.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { XMLBuilder } from 'fast-xml-parser';

export type PushFormat = 'json' | 'xml';
export type PushMode = 'plain' | 'compat' | 'safe';

export interface PushConfig {
  url: string;
  token: string;
  /** 43 characters; required for compat and safe mode. */
  encodingAesKey?: string;
  format: PushFormat;
  mode: PushMode;
}

/** One push, as it went over the wire (or would have, for a dry run). */
export interface PushRequest {
  url: string;
  contentType: string;
  body: string;
}

export interface PushDelivery extends PushRequest {
  delivered: boolean;
  attempts: { status: number | null; body: string }[];
}

const TIMEOUT_MS = 5_000;
const RETRIES = 3;

export function pushSignature(...parts: string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

export function encryptPushMessage(encodingAesKey: string, message: string, appid: string): string {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  const msg = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length);
  const full = Buffer.concat([randomBytes(16), length, msg, Buffer.from(appid, 'utf8')]);
  const pad = 32 - (full.length % 32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([
    cipher.update(Buffer.concat([full, Buffer.alloc(pad, pad)])),
    cipher.final(),
  ]).toString('base64');
}

// Strings as CDATA, numbers as text, objects nested, arrays as repeated elements.
const builder = new XMLBuilder({ cdataPropName: '__cdata', format: false });

function cdata(value: unknown): unknown {
  if (typeof value === 'string') return { __cdata: value };
  if (Array.isArray(value)) return value.map(cdata);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cdata(v)]));
  return value;
}

function encode(format: PushFormat, fields: Record<string, unknown>): string {
  return format === 'json' ? JSON.stringify(fields) : builder.build({ xml: cdata(fields) });
}

export class MessagePush {
  private readonly configs = new Map<string, PushConfig>();

  constructor(private readonly now: () => number) {}

  configure(appid: string, config: PushConfig): void {
    this.configs.set(appid, config);
  }

  configOf(appid: string): PushConfig | undefined {
    return this.configs.get(appid);
  }

  /**
   * The message as WeChat sends it, before any encryption: what a cloud function configured for
   * this event receives as its `event` (JSON only).
   */
  envelope(appid: string, event: Record<string, unknown>): Record<string, unknown> {
    return {
      ToUserName: `gh_${createHash('sha1').update(appid).digest('hex').slice(0, 12)}`,
      FromUserName: typeof event.OpenID === 'string' ? event.OpenID : 'o_wechat_platform',
      CreateTime: Math.floor(this.now() / 1000),
      MsgType: 'event',
      ...event,
    };
  }

  /** The request WeChat would send for this event (envelope fields filled in when absent). */
  build(appid: string, config: PushConfig, event: Record<string, unknown>): PushRequest {
    const fields = this.envelope(appid, event);
    const timestamp = String(Math.floor(this.now() / 1000));
    const nonce = String(randomBytes(4).readUInt32BE());
    const url = new URL(config.url);
    url.searchParams.set('signature', pushSignature(config.token, timestamp, nonce));
    url.searchParams.set('timestamp', timestamp);
    url.searchParams.set('nonce', nonce);
    const contentType = config.format === 'json' ? 'application/json' : 'text/xml';
    if (config.mode === 'plain')
      return { url: url.toString(), contentType, body: encode(config.format, fields) };
    if (!config.encodingAesKey) throw new Error(`${config.mode} mode needs an encodingAesKey`);
    const encrypted = encryptPushMessage(
      config.encodingAesKey,
      encode(config.format, fields),
      appid,
    );
    url.searchParams.set('openid', String(fields.FromUserName));
    url.searchParams.set('encrypt_type', 'aes');
    url.searchParams.set('msg_signature', pushSignature(config.token, timestamp, nonce, encrypted));
    const outer =
      config.mode === 'safe'
        ? { ToUserName: fields.ToUserName, Encrypt: encrypted }
        : { ...fields, Encrypt: encrypted };
    return { url: url.toString(), contentType, body: encode(config.format, outer) };
  }

  /** Sends an event to the app's configured URL, retrying as WeChat does. */
  async deliver(appid: string, event: Record<string, unknown>): Promise<PushDelivery> {
    const config = this.configs.get(appid);
    if (!config) throw new Error(`no message push configured for ${appid}`);
    const request = this.build(appid, config, event);
    const attempts: PushDelivery['attempts'] = [];
    for (let attempt = 0; attempt <= RETRIES; attempt += 1) {
      try {
        const response = await fetch(request.url, {
          method: 'POST',
          headers: { 'content-type': request.contentType },
          body: request.body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        const text = await response.text();
        attempts.push({ status: response.status, body: text.slice(0, 500) });
        if (response.status === 200 && (text === 'success' || text === ''))
          return { ...request, delivered: true, attempts };
      } catch (error) {
        attempts.push({ status: null, body: String((error as Error).message) });
      }
    }
    return { ...request, delivered: false, attempts };
  }
}
