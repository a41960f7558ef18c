/**
 * The HTTP adapter: routes -> wechat-core use-cases, WechatAuthError codes -> HTTP statuses.
 * Statuses are decided here and nowhere else. Every failure answers the same envelope:
 * `{ "error": { "code", "message" } }`; unknown failures are logged with the request id and
 * answered as `internal` without detail.
 */
import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import {
  AVATAR_MAX_BYTES,
  AVATARS_PATH,
  type AuthDeps,
  DEFAULT_DELETION_DAYS,
  type AvatarReencoder,
  WechatAuthError,
  bindPhone,
  claimWelcomeReward,
  login,
  logout,
  me,
  signatureMatches,
  updateProfile,
  uploadAvatar,
} from '@wxlogin/wechat-core';
import Fastify, {
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { reencodeAvatar } from './avatar-image.js';
import {
  type ConnectionSettings,
  ConcurrencyGate,
  DEFAULT_CONNECTIONS,
  DEFAULT_LIMITS,
  type LimitSettings,
  perHour,
  perMinute,
  registerLimits,
} from './limits.js';
import { registerAccountRoutes } from './account-routes.js';
import { type PushOptions, registerPushRoutes } from './push-routes.js';
import { type WebLoginOptions, registerWebLogin } from './web/oauth-routes.js';
import { describeFailure, errorBody } from './envelope.js';
import type { PublicUrl } from './public-url.js';

export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ServerOptions {
  logger: FastifyServerOptions['logger'];
  /** The origin clients reach this server at: avatar links are built from it. */
  publicUrl: PublicUrl;
  /** Official Account web login and its pages; absent: no such routes. */
  web?: WebLoginOptions | undefined;
  limits?: LimitSettings;
  connections?: ConnectionSettings;
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDRs); absent: none. */
  trustProxy?: string[];
  /** Cooling-off period of DELETE /me; default DEFAULT_DELETION_DAYS. */
  accountDeletionDays?: number;
  /** WeChat's message push at /wechat/events; absent: no such route. */
  push?: PushOptions | undefined;
}

/** Paths pino must never print: credentials travel in these headers. */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/**
 * How requests appear in the log: fastify's usual fields, with the query left out where it
 * carries a secret: the OAuth callback's live code and state, an unchecked avatar's check key,
 * and a message push's signature (with which a captured plain-mode URL could be replayed).
 */
const SECRET_QUERY_PATHS = ['/oauth/', '/avatars/', '/wechat/events'];

export const LOG_SERIALIZERS = {
  req(request: FastifyRequest) {
    const [path = '', query] = request.url.split('?', 2);
    const url =
      query !== undefined && SECRET_QUERY_PATHS.some((prefix) => path.startsWith(prefix))
        ? `${path}?[redacted]`
        : request.url;
    return {
      method: request.method,
      url,
      host: request.host,
      remoteAddress: request.ip,
      ...(request.socket.remotePort !== undefined ? { remotePort: request.socket.remotePort } : {}),
    };
  },
};

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer ([^\s]+)$/i.exec(header) : null;
  return match?.[1];
}

/** Which configured app a request comes from: X-WeChat-Appid, else the default app. */
function appidOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-wechat-appid'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

export function buildServer(baseDeps: AuthDeps, options: ServerOptions): FastifyInstance {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const connections = options.connections ?? DEFAULT_CONNECTIONS;
  const app = Fastify({
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    // Idle keep-alive sockets close on shutdown; in-flight requests still finish.
    forceCloseConnections: 'idle',
    // Slow clients: Node checks the header and request deadlines every second (its default,
    // 30 s, would let a trickling client hold a socket that much longer than the deadline).
    http: {
      headersTimeout: connections.headersTimeoutMs,
      connectionsCheckingInterval: 1_000,
    },
    requestTimeout: connections.requestTimeoutMs,
    keepAliveTimeout: connections.idleTimeoutMs,
    connectionTimeout: connections.idleTimeoutMs,
    trustProxy: options.trustProxy ?? false,
  });
  app.server.maxConnections = connections.maxConnections;
  // Warnings of the use-cases (a unionid conflict, say) go to the server's log.
  const deps: AuthDeps = { ...baseDeps, log: baseDeps.log ?? app.log };

  // wx.request sends content-type application/json even with no body (POST /logout): an empty
  // body is "no body", anything else must be JSON. Proto-poisoned keys are refused outright.
  const strictJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    void strictJson(request, text, (error, value) => {
      if (error)
        return done(
          new WechatAuthError(
            'bad_request',
            'body is not valid JSON (or uses a forbidden __proto__/constructor key)',
          ),
          undefined,
        );
      done(null, value);
    });
  });

  // Once shutdown starts, answers in flight close their connection, so keep-alive sockets that
  // turn idle after close() began do not hold the process open.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Callback-style hooks: on the hot path they cost less than async ones.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    // JSON answers carry tokens, phone numbers and profiles: no cache (browser, proxy or CDN)
    // may keep one. Routes that may be cached (avatars, pages) set their own header.
    if (!reply.hasHeader('cache-control')) {
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && type.startsWith('application/json'))
        reply.header('cache-control', 'no-store');
    }
    done(null, payload);
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.setErrorHandler((error, request, reply) => {
    const failure = describeFailure(error, request.id);
    if (failure.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(failure.retryAfterSeconds));
    if (failure.logged) request.log.error(failure.logged.fields, failure.logged.what);
    return reply.code(failure.status).send(errorBody(failure.code, failure.message));
  });

  // A session answers only for the app it was issued for: the one the request names
  // (X-WeChat-Appid), else the default app. Another app's token, an unknown appid, or a
  // web-login session (issued for the Official Account) is unauthorized here.
  // Checked once per request, whether by a per-user limit's key or by the route itself.
  const callers = new WeakMap<FastifyRequest, ReturnType<AuthDeps['sessions']['verify']>>();
  const authenticate = (request: FastifyRequest) => {
    let caller = callers.get(request);
    if (!caller) {
      caller = deps.sessions.verify(
        bearerToken(request),
        appidOf(request) ?? deps.apps.defaultAppid,
      );
      callers.set(request, caller);
    }
    return caller;
  };
  const userKey = async (request: FastifyRequest) => `user:${(await authenticate(request)).userId}`;
  const loginGate = new ConcurrencyGate(limits.loginConcurrency, limits.loginQueue);
  // Decoding images is CPU and memory on libuv's small thread pool (shared with file and DNS
  // work): two at a time, a short queue, then 429.
  const imageGate = new ConcurrencyGate(2, 16);
  const reencode: AvatarReencoder = (bytes, type) =>
    imageGate.run(() => reencodeAvatar(bytes, type));

  // From PUBLIC_URL, never from Host: a forged Host header must not end up in a profile.
  const avatarUrlOf = (id: string) => `${options.publicUrl.href}${AVATARS_PATH}${id}`;

  registerLimits(app);
  // Routes are declared once the limits plugin has loaded (its onRoute hook must see them).
  void app.register((app, _options, done) => {
    // Avatars: one multipart file of at most 2 MiB; larger, missing or non-image uploads are 400.
    void app.register(multipart, {
      limits: { fileSize: AVATAR_MAX_BYTES, files: 1, fields: 4, parts: 5 },
      throwFileSizeLimit: true,
    });

    app.post('/avatar', perHour(limits.avatarPerHour, userKey), async (request) => {
      const caller = await authenticate(request);
      const files = request.files();
      const first = await files.next();
      if (first.done) throw new WechatAuthError('bad_request', 'the upload holds no file');
      const bytes = await first.value.toBuffer();
      // Exactly one file: a second one (refused by the files limit, or seen here) is ambiguous.
      if (!(await files.next()).done)
        throw new WechatAuthError('bad_request', 'upload one file only');
      const { id } = await uploadAvatar(
        { bytes, declaredType: first.value.mimetype },
        caller,
        deps,
        {
          reencode,
          // WeChat's image check (its verdict comes by message push, so only with one set up)
          // downloads it from here; nobody else gets it before it passed.
          ...(options.push
            ? {
                checkUrl: (avatarId: string, checkKey: string) =>
                  `${avatarUrlOf(avatarId)}?check=${checkKey}`,
              }
            : {}),
        },
      );
      return { avatarUrl: avatarUrlOf(id) };
    });

    // Public and immutable once WeChat's image check passed it: the id is 128 random bits, and
    // <image src> sends no token. Before that, only its owner (Bearer) and WeChat's downloader
    // (the check key in the URL it was given) get it, and nobody may cache it.
    app.get('/avatars/:id', async (request, reply) => {
      const { id } = request.params as { id: string };
      const avatar = await deps.store.avatars.find(id);
      if (!avatar) throw new WechatAuthError('not_found', 'no such avatar');
      if (avatar.review) {
        const { check } = request.query as { check?: string };
        const byKey = signatureMatches(check, avatar.review.checkKey);
        const byOwner =
          !byKey &&
          bearerToken(request) !== undefined &&
          (await authenticate(request).then(
            async (caller) => (await deps.store.avatars.owner(id)) === caller.userId,
            () => false,
          ));
        if (!byKey && !byOwner) throw new WechatAuthError('not_found', 'no such avatar');
      }
      return (
        reply
          .header('content-type', avatar.contentType)
          .header(
            'cache-control',
            avatar.review ? 'private, no-store' : 'public, max-age=31536000, immutable',
          )
          // The type is the one read from the bytes: browsers must not guess another (an image
          // that also parses as HTML or SVG), and nothing in it may run if opened directly.
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .send(Buffer.from(avatar.bytes))
      );
    });

    app.post('/login', perMinute(limits.loginPerMinute), async (request) =>
      loginGate.run(
        () => login(request.body, { appid: appidOf(request) ?? deps.apps.defaultAppid }, deps),
        // A client that gave up while queued: its code is not spent on nobody.
        () => request.socket.destroyed,
      ),
    );

    app.get('/me', async (request) => me(await authenticate(request), deps));

    // An avatar must be one this server stores, at its public URL.
    app.post('/userinfo', perHour(limits.userinfoPerHour, userKey), async (request) =>
      updateProfile(request.body, await authenticate(request), deps, {
        avatarOrigins: [options.publicUrl.origin],
      }),
    );

    // Each successful verification is billed to the account: a small budget per user.
    app.post('/phone', perHour(limits.phonePerHour, userKey), async (request) =>
      bindPhone(request.body, await authenticate(request), deps),
    );

    // Idempotent: the first claim of a user (from any of their apps) grants, later ones say when.
    app.post('/rewards/welcome', async (request) =>
      claimWelcomeReward(await authenticate(request), deps),
    );

    registerAccountRoutes(app, deps, {
      authenticate,
      userLimit: perHour(limits.accountPerHour, userKey),
      deletionDays: options.accountDeletionDays ?? DEFAULT_DELETION_DAYS,
    });

    app.post('/logout', async (request, reply) => {
      await logout(bearerToken(request), deps);
      return reply.code(204).send();
    });

    app.get('/healthz', async () => {
      await deps.store.ping();
      return { ok: true, store: deps.store.kind };
    });
    done();
  });

  if (options.push) registerPushRoutes(app, deps, options.push);
  if (options.web) registerWebLogin(app, deps, options.web, perMinute(limits.loginPerMinute));

  return app;
}
