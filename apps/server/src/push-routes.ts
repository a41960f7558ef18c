/**
 * WeChat's message push (消息推送) at /wechat/events: the URL check (GET, answers echostr) and the
 * pushed events (POST, answers `success`: the user-information events and wxa_media_check), in
 * JSON or XML, plain or safe mode. Configured in the
 * mini-program's admin console ("开发管理 - 消息推送配置") with the same Token and EncodingAESKey
 * as WECHAT_PUSH_TOKEN and WECHAT_PUSH_AES_KEY.
 *
 * - Every request must carry a valid `signature` (sha1 of the sorted Token, timestamp, nonce),
 *   and a timestamp within 10 minutes of ours; otherwise 401 and nothing changes.
 * - With WECHAT_PUSH_AES_KEY set, only encrypted pushes are taken (safe or compatible mode):
 *   `msg_signature` must cover the body's Encrypt, which must decrypt to one of our appids; the
 *   plaintext fields of a compatible-mode body are ignored. A plain push is then refused.
 * - In plain mode the body is not signed, so a (timestamp, nonce) seen in the last 10 minutes is
 *   answered `success` without being applied again: a captured URL cannot carry another body.
 *   (Per instance; safe mode, whose signature covers the body, needs no such memory.)
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
 */
import {
  type AuthDeps,
  type PushedEvent,
  WechatAuthError,
  decryptPushMessage,
  handlePushedEvent,
  pushSignature,
  signatureMatches,
} from '@wxlogin/wechat-core';
import { XMLParser } from 'fast-xml-parser';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface PushOptions {
  /** The Token of the message-push configuration. */
  token: string;
  /** The EncodingAESKey (43 characters); absent: plain mode. */
  aesKey?: string | undefined;
}

/** How far a push's timestamp may be from our clock (WeChat retries within seconds). */
const TIMESTAMP_WINDOW_S = 600;

type Query = Record<string, string | undefined>;

// WeChat's XML is flat elements (CDATA or text), with objects for a media check's result: no
// attributes, no entities to expand, every value kept as text.
const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  processEntities: false,
  ignoreDeclaration: true,
  isArray: (name) => name === 'detail',
});

/** A body as WeChat sends it (JSON or XML, told apart by its first character). */
function decodeBody(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('{')) {
      const value: unknown = JSON.parse(trimmed);
      if (value && typeof value === 'object' && !Array.isArray(value))
        return value as Record<string, unknown>;
    } else if (trimmed.startsWith('<')) {
      const root = (xml.parse(trimmed) as Record<string, unknown>).xml;
      if (root && typeof root === 'object') return root as Record<string, unknown>;
    }
  } catch {
    // fall through: refused below
  }
  throw new WechatAuthError('bad_request', 'message push: the body is neither JSON nor <xml>');
}

function unauthorized(message: string): WechatAuthError {
  return new WechatAuthError('unauthorized', `message push: ${message}`);
}

export function registerPushRoutes(
  app: FastifyInstance,
  deps: AuthDeps,
  options: PushOptions,
): void {
  // (timestamp, nonce) of plain-mode pushes applied, until their URL is refused anyway (the
  // timestamp out of the window): only signed URLs get here, so it stays small.
  const seen = new Map<string, number>();
  const remember = (key: string, timestampS: number, nowS: number): boolean => {
    for (const [old, expiresS] of seen) if (expiresS < nowS) seen.delete(old);
    if (seen.has(key)) return false;
    seen.set(key, timestampS + TIMESTAMP_WINDOW_S);
    return true;
  };

  /** The URL's signature and timestamp; throws unless both are WeChat's. */
  const checkUrl = (query: Query): { timestamp: string; nonce: string } => {
    const timestamp = query.timestamp ?? '';
    const nonce = query.nonce ?? '';
    if (!signatureMatches(query.signature, pushSignature(options.token, timestamp, nonce)))
      throw unauthorized('the signature does not match WECHAT_PUSH_TOKEN');
    const age = Math.abs(Date.now() / 1000 - Number(timestamp));
    if (!/^\d{1,12}$/.test(timestamp) || age > TIMESTAMP_WINDOW_S)
      throw unauthorized('the timestamp is more than 10 minutes from this server’s clock');
    return { timestamp, nonce };
  };

  void app.register((scope, _options, done) => {
    // Whatever the content type (WeChat's JSON or XML), the body arrives as text.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, next) =>
      next(null, body),
    );

    scope.get('/wechat/events', async (request, reply) => {
      const query = request.query as Query;
      checkUrl(query);
      const echostr = query.echostr ?? '';
      if (!/^[\x21-\x7e]{1,128}$/.test(echostr))
        throw new WechatAuthError('bad_request', 'message push: echostr is missing or malformed');
      return reply.type('text/plain; charset=utf-8').send(echostr);
    });

    scope.post('/wechat/events', async (request: FastifyRequest, reply) => {
      const query = request.query as Query;
      const { timestamp, nonce } = checkUrl(query);
      const text = typeof request.body === 'string' ? request.body : '';
      const outer = decodeBody(text);
      let event: PushedEvent;
      let appid: string | undefined;
      let replayKey: string | undefined;
      if (typeof outer.Encrypt === 'string') {
        if (!options.aesKey)
          throw unauthorized('an encrypted push, but WECHAT_PUSH_AES_KEY is not set');
        const expected = pushSignature(options.token, timestamp, nonce, outer.Encrypt);
        if (!signatureMatches(query.msg_signature, expected))
          throw unauthorized('msg_signature does not match the body');
        const inner = decryptPushMessage(options.aesKey, outer.Encrypt, (id) => deps.apps.has(id));
        event = decodeBody(inner.message);
        appid = inner.appid;
      } else {
        if (options.aesKey)
          throw unauthorized('a plain push, but safe mode is configured (WECHAT_PUSH_AES_KEY)');
        // Unsigned body: the same URL twice is a retry or a replay; applied once.
        replayKey = `${timestamp}:${nonce}`;
        if (!remember(replayKey, Number(timestamp), Math.floor(Date.now() / 1000)))
          return reply.type('text/plain; charset=utf-8').send('success');
        event = outer;
      }
      let outcome;
      try {
        outcome = await handlePushedEvent(event, deps, appid);
      } catch (error) {
        // Not applied (the store is down, say): WeChat's retry of this URL must apply it.
        if (replayKey !== undefined) seen.delete(replayKey);
        throw error;
      }
      request.log.info(
        { event: typeof event.Event === 'string' ? event.Event : undefined, outcome },
        'message push applied',
      );
      // "回复 success 或空字符串（无需加密）": never encrypted.
      return reply.type('text/plain; charset=utf-8').send('success');
    });
    done();
  });
}
