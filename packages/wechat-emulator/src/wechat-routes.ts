/**
 * Routes that answer like api.weixin.qq.com and open.weixin.qq.com. WeChat answers errors with
 * HTTP 200 and `{ errcode, errmsg }`, and some endpoints say text/plain for a JSON body: both kept.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fail, injectedFault, jsonBody, ok } from './answers.js';
import { type EmulatorState, sessionKeySignature } from './state.js';

type Query = Record<string, string | undefined>;

function query(request: FastifyRequest): Query {
  return request.query as Query;
}

function sendPlainJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('text/plain').send(JSON.stringify(body));
}

export function registerWechatRoutes(app: FastifyInstance, state: EmulatorState): void {
  // Faults and call counters sit in front of every WeChat route (never the control API).
  app.addHook('preHandler', async (request, reply) => {
    const path = request.routeOptions.url;
    if (!path || path.startsWith('/__control')) return;
    state.faults.countCall(path);
    const fault = state.faults.takeFault(path);
    if (!fault) return;
    switch (fault.kind) {
      case 'errcode':
        return reply.send(injectedFault(fault.errcode));
      case 'http_500':
        return reply
          .code(500)
          .type('text/html')
          .send('<html><body>500 Internal Server Error</body></html>');
      case 'non_json':
        return reply.type('text/html').send('<html><body>系统繁忙，请稍后再试</body></html>');
      case 'hang':
        // Never answer: the caller's timeout is what is being tested.
        await new Promise<never>(() => undefined);
    }
  });

  // @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
  app.get('/sns/jscode2session', (request, reply) => {
    const q = query(request);
    const credentials = state.checkCredentials(q.appid, q.secret);
    if (credentials) return sendPlainJson(reply, fail(credentials));
    if (q.grant_type !== 'authorization_code') return sendPlainJson(reply, fail(40002));
    const answer = state.logins.exchangeLoginCode(q.appid ?? '', q.js_code ?? '');
    if ('errcode' in answer) return sendPlainJson(reply, fail(answer.errcode));
    return sendPlainJson(reply, answer);
  });

  // @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html
  app.post('/cgi-bin/stable_token', (request) => {
    const body = jsonBody(request);
    if (!body) return fail(47001);
    const appid = typeof body.appid === 'string' ? body.appid : undefined;
    const secret = typeof body.secret === 'string' ? body.secret : undefined;
    const credentials = state.checkCredentials(appid, secret);
    if (credentials) return fail(credentials);
    if (body.grant_type !== 'client_credential') return fail(40002);
    const answer = state.tokens.stableToken(appid ?? '', body.force_refresh === true);
    return 'errcode' in answer ? fail(answer.errcode) : answer;
  });

  app.get('/cgi-bin/token', (request) => {
    const q = query(request);
    const credentials = state.checkCredentials(q.appid, q.secret);
    if (credentials) return fail(credentials);
    if (q.grant_type !== 'client_credential') return fail(40002);
    return state.tokens.legacyToken(q.appid ?? '');
  });

  // @see https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/phone-number/api_getphonenumber
  app.post('/wxa/business/getuserphonenumber', (request) => {
    const token = state.tokens.checkAccessToken(query(request).access_token);
    if (token.errcode) return fail(token.errcode);
    const body = jsonBody(request);
    if (!body) return fail(47001);
    const code = typeof body.code === 'string' ? body.code : '';
    // The optional openid: the user the code must belong to (documented as an optional field;
    // the errcode for a mismatch is not documented, 40003 "invalid openid" is our reading).
    if (body.openid !== undefined && typeof body.openid !== 'string') return fail(47001);
    const phone = state.logins.redeemPhoneCode(token.appid ?? '', code, body.openid);
    if (typeof phone === 'number') return fail(phone);
    const phoneNumber =
      phone.countryCode === '86'
        ? phone.purePhoneNumber
        : `+${phone.countryCode}${phone.purePhoneNumber}`;
    return ok({
      phone_info: {
        phoneNumber,
        purePhoneNumber: phone.purePhoneNumber,
        countryCode: phone.countryCode,
        watermark: { timestamp: Math.floor(state.now() / 1000), appid: phone.appid },
      },
    });
  });

  // checksession and resetusersessionkey share the signature rule: HMAC-SHA256("", session_key).
  // @see https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/checkSessionKey.html
  const sessionKeyCall = (request: FastifyRequest, reset: boolean): unknown => {
    const q = query(request);
    const token = state.tokens.checkAccessToken(q.access_token);
    if (token.errcode) return fail(token.errcode);
    if (q.sig_method !== 'hmac_sha256') return fail(87009);
    const user = state.logins.getUser(token.appid ?? '', q.openid ?? '');
    if (!user) return fail(40003);
    if (q.signature !== sessionKeySignature(user.sessionKey)) return fail(87009);
    if (!reset) return ok();
    return ok({ openid: user.openid, session_key: state.logins.resetSessionKey(user) });
  };
  app.get('/wxa/checksession', (request) => sessionKeyCall(request, false));
  app.get('/wxa/resetusersessionkey', (request) => sessionKeyCall(request, true));

  // ---- Official Account web authorization ----
  // @see https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html

  const AUTHORIZE_ORDER = ['appid', 'redirect_uri', 'response_type', 'scope', 'state'];
  app.get('/connect/oauth2/authorize', (request, reply) => {
    const q = query(request);
    const keys = Object.keys(q);
    const expected = AUTHORIZE_ORDER.filter((k) => k in q);
    const errorPage = (message: string) =>
      reply
        .code(400)
        .type('text/html; charset=utf-8')
        .send(`<html><body><p>${message}</p></body></html>`);
    if (keys.join() !== expected.join() || keys.length < 4)
      return errorPage('参数错误 (parameter order)');
    if (!q.appid || !state.apps.has(q.appid)) return errorPage('参数错误 (appid)');
    if (q.response_type !== 'code') return errorPage('参数错误 (response_type)');
    if (q.scope !== 'snsapi_base' && q.scope !== 'snsapi_userinfo')
      return errorPage('scope 参数错误或没有 scope 权限');
    let target: URL;
    try {
      target = new URL(q.redirect_uri ?? '');
    } catch {
      return errorPage('redirect_uri 参数错误');
    }
    const user = state.oauth.browserUser(q.appid);
    if (q.scope === 'snsapi_userinfo' && user.consent === 'deny') {
      // Denied consent: the redirect carries state but no code.
      target.searchParams.set('state', q.state ?? '');
      return reply.redirect(target.toString(), 302);
    }
    target.searchParams.set('code', state.oauth.mintOAuthCode(user, q.scope));
    target.searchParams.set('state', q.state ?? '');
    return reply.redirect(target.toString(), 302);
  });

  app.get('/sns/oauth2/access_token', (request) => {
    const q = query(request);
    const credentials = state.checkCredentials(q.appid, q.secret);
    if (credentials) return fail(credentials);
    if (q.grant_type !== 'authorization_code') return fail(40002);
    const grant = state.oauth.exchangeOAuthCode(q.appid ?? '', q.code ?? '');
    if ('errcode' in grant) return fail(grant.errcode);
    return grantBody(grant);
  });

  app.get('/sns/oauth2/refresh_token', (request) => {
    const q = query(request);
    if (!q.appid || !state.apps.has(q.appid)) return fail(40013);
    if (q.grant_type !== 'refresh_token') return fail(40002);
    const grant = state.oauth.refreshOAuth(q.appid, q.refresh_token ?? '');
    if ('errcode' in grant) return fail(grant.errcode);
    return grantBody(grant);
  });

  app.get('/sns/userinfo', (request, reply) => {
    const q = query(request);
    const grant = state.oauth.oauthGrant(q.access_token);
    if ('errcode' in grant) return sendPlainJson(reply, fail(grant.errcode, 'oauth'));
    if (grant.profile.openid !== q.openid) return sendPlainJson(reply, fail(40003));
    if (grant.scope !== 'snsapi_userinfo') return sendPlainJson(reply, fail(48001));
    const p = grant.profile;
    // text/plain with no charset: the body is UTF-8 and clients must decode it so.
    return sendPlainJson(reply, {
      openid: p.openid,
      nickname: p.nickname,
      sex: p.sex,
      province: p.province,
      city: p.city,
      country: p.country,
      headimgurl: p.headimgurl,
      privilege: [],
      ...(p.unionid ? { unionid: p.unionid } : {}),
    });
  });

  app.get('/sns/auth', (request) => {
    const q = query(request);
    const grant = state.oauth.oauthGrant(q.access_token);
    if ('errcode' in grant) return fail(grant.errcode, 'oauth');
    if (grant.profile.openid !== q.openid) return fail(40003);
    return ok();
  });

  // Stands in for thirdwx.qlogo.cn, which a machine without WeChat cannot reach: point an OAuth
  // user's headimgurl here (PUT /__control/oauth-user) to see an avatar on a page.
  app.get('/mmopen/emulator-avatar.svg', (_request, reply) =>
    reply
      .type('image/svg+xml')
      .header('cache-control', 'public, max-age=3600')
      .send(
        '<svg xmlns="http://www.w3.org/2000/svg" width="132" height="132" viewBox="0 0 132 132">' +
          '<rect width="132" height="132" fill="#07c160"/>' +
          '<circle cx="66" cy="52" r="24" fill="#fff"/>' +
          '<path d="M22 120c6-26 24-38 44-38s38 12 44 38z" fill="#fff"/></svg>',
      ),
  );
}

function grantBody(grant: {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  scope: string;
  profile: { openid: string; unionid: string | undefined };
}): Record<string, unknown> {
  return {
    access_token: grant.accessToken,
    expires_in: 7200,
    refresh_token: grant.refreshToken,
    openid: grant.profile.openid,
    scope: grant.scope,
    is_snapshotuser: 0,
    ...(grant.profile.unionid ? { unionid: grant.profile.unionid } : {}),
  };
}
