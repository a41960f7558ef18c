/**
 * Official Account web login over HTTP: GET /oauth/wechat starts it, GET /oauth/wechat/callback
 * finishes it, GET / shows who is signed in, POST /oauth/logout ends it. The cookies' policy is
 * in cookies.ts, the error pages' copy in error-pages.ts, the markup in pages.ts.
 * @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
 */
import cookie from '@fastify/cookie';
import {
  type AppCredentials,
  type AuthDeps,
  type OAuthScope,
  WechatAuthError,
  type WechatOAuthClient,
  checkOAuthState,
  completeOAuthLogin,
  createOAuthState,
  decodeStateBinding,
  encodeStateBinding,
  logout,
  me,
  parseReturnTo,
} from '@wxlogin/wechat-core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { PublicUrl } from '../public-url.js';
import { LOGIN_PATH, STATE_COOKIE_SECONDS, webCookies } from './cookies.js';
import { PAGES, pageForFailure } from './error-pages.js';
import { type ErrorPage, PAGE_HEADERS, errorPage, signedInPage, signedOutPage } from './pages.js';

export interface WebLoginOptions {
  officialAccount: AppCredentials;
  oauth: WechatOAuthClient;
  /** The origin WeChat redirects back to, e.g. https://login.example.com; sets the cookies' policy. */
  publicUrl: PublicUrl;
  /** The state's HMAC key. */
  stateSecret: string;
}

/** Registers the web login in its own scope: cookies and form posts exist only there. */
export function registerWebLogin(
  root: FastifyInstance,
  deps: AuthDeps,
  options: WebLoginOptions,
  /** Route options of the callback, which spends a WeChat code exchange (the login limit). */
  callbackLimit: RouteShorthandOptions = {},
): void {
  void root.register(async (app) => {
    await app.register(cookie);
    // The log-out form posts an empty urlencoded body; nothing in it is read.
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1024 },
      (_request, _body, done) => done(null, undefined),
    );
    webRoutes(app, deps, options, callbackLimit);
  });
}

function webRoutes(
  app: FastifyInstance,
  deps: AuthDeps,
  options: WebLoginOptions,
  callbackLimit: RouteShorthandOptions,
): void {
  const web = { ...deps, oauth: options.oauth, officialAccount: options.officialAccount };
  // Built on first use: the public URL is known once the server listens.
  let specs: ReturnType<typeof webCookies> | undefined;
  const cookies = () => (specs ??= webCookies(options.publicUrl));

  const sendPage = (
    reply: FastifyReply,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) =>
    reply
      .code(status)
      .headers({ ...PAGE_HEADERS, ...headers })
      .send(body);

  const showError = (reply: FastifyReply, page: ErrorPage) =>
    sendPage(reply, page.status, errorPage(page, LOGIN_PATH));

  /** Sends the browser to WeChat's authorize page with a fresh state bound to it. */
  const toWechat = (reply: FastifyReply, scope: OAuthScope, returnTo: string) => {
    const { state, binding } = createOAuthState(returnTo, {
      secret: options.stateSecret,
      now: deps.now(),
    });
    const { state: cookie } = cookies();
    reply.setCookie(cookie.name, encodeStateBinding(binding), {
      ...cookie.options,
      maxAge: STATE_COOKIE_SECONDS,
    });
    const url = options.oauth.buildAuthorizeUrl({
      appid: options.officialAccount.appid,
      redirectUri: `${options.publicUrl.href}${LOGIN_PATH}/callback`,
      scope,
      state,
    });
    return reply.code(302).header('cache-control', 'no-store').redirect(url);
  };

  app.get(LOGIN_PATH, (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const scope = q.scope ?? 'snsapi_base';
    if (scope !== 'snsapi_base' && scope !== 'snsapi_userinfo')
      return showError(reply, PAGES.badScope);
    const returnTo = parseReturnTo(q.returnTo);
    if (returnTo === null) return showError(reply, PAGES.badReturnTo);
    return toWechat(reply, scope, returnTo);
  });

  app.get(`${LOGIN_PATH}/callback`, callbackLimit, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const { state: stateCookie, session: sessionCookie } = cookies();
    const binding = decodeStateBinding(request.cookies[stateCookie.name]);
    // Whatever happens next, this state is spent: a replay finds no cookie.
    reply.clearCookie(stateCookie.name, stateCookie.options);
    const check = checkOAuthState(q.state, binding, {
      secret: options.stateSecret,
      now: deps.now(),
    });
    if (check !== 'ok' || !binding) {
      request.log.info({ event: 'oauth_state_rejected', check }, 'OAuth callback refused');
      return showError(reply, check === 'expired' ? PAGES.expiredState : PAGES.invalidState);
    }
    // A user who refuses consent comes back with the state and no code.
    if (typeof q.code !== 'string' || q.code === '') return showError(reply, PAGES.denied);
    try {
      const outcome = await completeOAuthLogin(q.code, web);
      if (outcome.kind === 'needs_userinfo')
        return toWechat(reply, 'snsapi_userinfo', binding.returnTo);
      if (outcome.kind === 'snapshot') return showError(reply, PAGES.snapshot);
      reply.setCookie(sessionCookie.name, outcome.token, {
        ...sessionCookie.options,
        expires: outcome.expiresAt,
      });
      // Signed returnTo values were checked when the login started; checked again all the same.
      return reply
        .code(302)
        .header('cache-control', 'no-store')
        .redirect(parseReturnTo(binding.returnTo) ?? '/');
    } catch (error) {
      const page = pageForFailure(error, request.id);
      if (page.status >= 500)
        request.log.error({ err: WechatAuthError.from(error) }, 'OAuth callback failed');
      return showError(reply, page);
    }
  });

  /** The signed-in user of this browser, or undefined (a stale cookie is just "signed out"). */
  const currentUser = async (request: FastifyRequest) => {
    const token = request.cookies[cookies().session.name];
    if (!token) return undefined;
    try {
      // Only a web-login session (issued for the Official Account), never a mini-program token.
      const session = await deps.sessions.verify(token, options.officialAccount.appid);
      return (await me(session, deps)).user;
    } catch (error) {
      if (error instanceof WechatAuthError && error.code === 'unauthorized') return undefined;
      throw error;
    }
  };

  app.get('/', async (request, reply) => {
    try {
      const user = await currentUser(request);
      const { session: cookie } = cookies();
      if (!user) {
        // A stale cookie (expired or logged-out session) is dropped; no cookie, no header.
        if (request.cookies[cookie.name] !== undefined)
          reply.clearCookie(cookie.name, cookie.options);
        return sendPage(reply, 200, signedOutPage(`${LOGIN_PATH}?scope=snsapi_base&returnTo=%2F`));
      }
      // The session slides on use (server-side); the cookie follows so it does not end first.
      reply.setCookie(cookie.name, request.cookies[cookie.name] ?? '', {
        ...cookie.options,
        maxAge: Math.floor(deps.sessions.ttlMs / 1000),
      });
      // The log-out form posts from this page: with same-origin (not no-referrer) browsers send
      // its real Origin, which the log-out checks where Sec-Fetch-Site is not sent (older ones).
      return sendPage(reply, 200, signedInPage(user), { 'referrer-policy': 'same-origin' });
    } catch (error) {
      request.log.error({ err: WechatAuthError.from(error) }, 'page failed');
      return showError(reply, pageForFailure(error, request.id));
    }
  });

  /**
   * Whether a form post comes from this site's own page (no forced log-out from another site).
   * Current browsers say so in Sec-Fetch-Site. Older ones send Origin with every POST, which must
   * then be PUBLIC_URL's (the signed-in page, whose form this is, has a same-origin referrer
   * policy: under no-referrer a browser would send `Origin: null`). Sec-Fetch-Site is read first.
   * A client that sends neither (curl) is no browser another site can drive.
   */
  const sameOrigin = (request: FastifyRequest) => {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined) return site === 'same-origin' || site === 'none';
    const origin = request.headers.origin;
    return origin === undefined || origin === options.publicUrl.origin;
  };

  app.post('/oauth/logout', async (request, reply) => {
    if (!sameOrigin(request)) {
      request.log.info({ event: 'cross_origin_logout' }, 'log-out from another origin refused');
      return showError(reply, PAGES.crossOrigin);
    }
    const { session: cookie } = cookies();
    const token = request.cookies[cookie.name];
    await logout(token, deps).catch((error: unknown) => {
      if (!(error instanceof WechatAuthError && error.code === 'unauthorized')) throw error;
    });
    reply.clearCookie(cookie.name, cookie.options);
    return reply.code(303).header('cache-control', 'no-store').redirect('/');
  });
}
