/**
 * The control API under /__control: what a test does on the "phone" side (wx.login, the phone
 * button, getUserInfo, the OAuth consent page) and how it breaks WeChat on purpose.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { encryptOpenData, signRawData } from './open-data.js';
import type { EmulatorState, FaultKind } from './state.js';

class ControlInputError extends Error {}

type Body = Record<string, unknown>;

function body(request: FastifyRequest): Body {
  if (typeof request.body !== 'string' || request.body === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    throw new ControlInputError('body is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ControlInputError('body must be a JSON object');
  }
  return parsed as Body;
}

function str(b: Body, key: string): string {
  const value = b[key];
  if (typeof value !== 'string' || value === '')
    throw new ControlInputError(`${key} must be a non-empty string`);
  return value;
}

function optStr(b: Body, key: string): string | undefined {
  return b[key] === undefined ? undefined : str(b, key);
}

function optInt(b: Body, key: string, min: number, max: number): number | undefined {
  const value = b[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ControlInputError(`${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function knownApp(state: EmulatorState, b: Body): string {
  const appid = str(b, 'appid');
  if (!state.apps.has(appid))
    throw new ControlInputError(`unknown appid ${appid}: register it first`);
  return appid;
}

const FAULT_KINDS: readonly FaultKind[] = ['errcode', 'http_500', 'non_json', 'hang'];

export function registerControlRoutes(app: FastifyInstance, state: EmulatorState): void {
  app.setErrorHandler((error, _request, reply: FastifyReply) => {
    if (error instanceof ControlInputError) {
      return reply.code(400).send({ error: { code: 'bad_request', message: error.message } });
    }
    const message = error instanceof Error ? error.message : String(error);
    return reply.code(500).send({ error: { code: 'internal', message } });
  });

  app.post('/__control/apps', (request) => {
    const b = body(request);
    const appid = str(b, 'appid');
    state.apps.set(appid, { appid, secret: str(b, 'secret') });
    return { appid };
  });

  /** wx.login on the phone, `count` times: fresh codes, and the session_key rotates each time. */
  app.post('/__control/login-codes', (request) => {
    const b = body(request);
    const appid = knownApp(state, b);
    const count = optInt(b, 'count', 1, 100_000) ?? 1;
    let openid = optStr(b, 'openid');
    const unionid = optStr(b, 'unionid');
    const risky = b.risky === true;
    const codes: string[] = [];
    let sessionKey = '';
    for (let i = 0; i < count; i += 1) {
      const minted = state.logins.mintLoginCode({ appid, openid, unionid, risky });
      openid = minted.user.openid;
      sessionKey = minted.user.sessionKey;
      codes.push(minted.code);
    }
    return { appid, openid, unionid, sessionKey, codes };
  });

  /** The getPhoneNumber button's code. */
  app.post('/__control/phone-codes', (request) => {
    const b = body(request);
    const appid = knownApp(state, b);
    const purePhoneNumber = optStr(b, 'purePhoneNumber') ?? '13800138000';
    const countryCode = optStr(b, 'countryCode') ?? '86';
    const count = optInt(b, 'count', 1, 100_000) ?? 1;
    // The user who tapped: given, only their openid can redeem the code (as on the platform).
    const openid = optStr(b, 'openid');
    const codes = Array.from({ length: count }, () =>
      state.logins.mintPhoneCode(appid, purePhoneNumber, countryCode, openid),
    );
    return { codes, purePhoneNumber, countryCode };
  });

  /** What wx.getUserInfo returns on the phone, encrypted with the user's current session_key. */
  app.post('/__control/encrypted-userinfo', (request) => {
    const b = body(request);
    const appid = knownApp(state, b);
    const user = state.logins.getUser(appid, str(b, 'openid'));
    if (!user)
      throw new ControlInputError('unknown openid for this appid: mint a login code first');
    const profile = {
      nickName: optStr(b, 'nickName') ?? '微信用户',
      gender: 0,
      language: 'zh_CN',
      city: '',
      province: '',
      country: '',
      // Today's platform answers the legacy interfaces anonymously: "微信用户" and this grey avatar.
      avatarUrl:
        optStr(b, 'avatarUrl') ??
        'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132',
    };
    const rawData = JSON.stringify(profile);
    const plain = {
      openId: user.openid,
      ...profile,
      ...(user.unionid ? { unionId: user.unionid } : {}),
      watermark: {
        timestamp: Math.floor(state.now() / 1000),
        appid: optStr(b, 'watermarkAppid') ?? appid,
      },
    };
    return {
      ...encryptOpenData(user.sessionKey, plain),
      rawData,
      signature: signRawData(rawData, user.sessionKey),
    };
  });

  /** The legacy getPhoneNumber button: encryptedData and iv. */
  app.post('/__control/encrypted-phone', (request) => {
    const b = body(request);
    const appid = knownApp(state, b);
    const user = state.logins.getUser(appid, str(b, 'openid'));
    if (!user)
      throw new ControlInputError('unknown openid for this appid: mint a login code first');
    const purePhoneNumber = optStr(b, 'purePhoneNumber') ?? '13800138000';
    const countryCode = optStr(b, 'countryCode') ?? '86';
    return encryptOpenData(user.sessionKey, {
      phoneNumber: countryCode === '86' ? purePhoneNumber : `+${countryCode}${purePhoneNumber}`,
      purePhoneNumber,
      countryCode,
      watermark: {
        timestamp: Math.floor(state.now() / 1000),
        appid: optStr(b, 'watermarkAppid') ?? appid,
      },
    });
  });

  /** Who is "in the browser" for an Official Account, and whether they consent. */
  app.put('/__control/oauth-user', (request) => {
    const b = body(request);
    const appid = knownApp(state, b);
    const profile = state.oauth.setBrowserUser(appid, {
      ...(optStr(b, 'openid') ? { openid: str(b, 'openid') } : {}),
      ...(optStr(b, 'unionid') ? { unionid: str(b, 'unionid') } : {}),
      ...(optStr(b, 'nickname') ? { nickname: str(b, 'nickname') } : {}),
      ...(optStr(b, 'headimgurl') ? { headimgurl: str(b, 'headimgurl') } : {}),
      ...(b.consent === 'deny' || b.consent === 'allow' ? { consent: b.consent } : {}),
    });
    return { openid: profile.openid, unionid: profile.unionid };
  });

  /** An OAuth code without going through the authorize redirect. */
  app.post('/__control/oauth-codes', (request) => {
    const b = body(request);
    const appid = knownApp(state, b);
    const scope = b.scope === 'snsapi_base' ? 'snsapi_base' : 'snsapi_userinfo';
    const profile = state.oauth.browserUser(appid);
    return { code: state.oauth.mintOAuthCode(profile, scope), openid: profile.openid };
  });

  /**
   * Arms a fault for the next `times` requests to a WeChat path ("always" for every one).
   * kind: errcode (with `errcode`, e.g. -1 or 45011), http_500, non_json, hang.
   */
  app.post('/__control/faults', (request) => {
    const b = body(request);
    const path = str(b, 'path');
    const kind = str(b, 'kind') as FaultKind;
    if (!FAULT_KINDS.includes(kind))
      throw new ControlInputError(`kind must be one of ${FAULT_KINDS.join(', ')}`);
    const errcode = kind === 'errcode' ? optInt(b, 'errcode', -1, 99_999) : 0;
    if (errcode === undefined) throw new ControlInputError('errcode is required for kind errcode');
    const times =
      b.times === 'always' ? Number.POSITIVE_INFINITY : (optInt(b, 'times', 1, 1_000_000) ?? 1);
    const fault = state.faults.addFault(path, kind, errcode, times);
    return { id: fault.id };
  });

  app.delete('/__control/faults', () => {
    state.faults.clearFaults();
    return { ok: true };
  });

  app.get('/__control/calls', () => ({ calls: Object.fromEntries(state.faults.calls) }));

  /** Moves the emulator's clock forward: codes and tokens expire without waiting. */
  app.post('/__control/clock', (request) => {
    const b = body(request);
    const seconds = optInt(b, 'advanceSeconds', 0, 365 * 24 * 3600);
    if (seconds === undefined) throw new ControlInputError('advanceSeconds is required');
    state.advanceClock(seconds * 1000);
    return { now: new Date(state.now()).toISOString() };
  });

  /** The app's message-push configuration (消息推送配置): URL, Token, EncodingAESKey, format, mode. */
  app.put('/__control/push-config', (request) => {
    const b = body(request);
    const appid = knownApp(state, b);
    const url = str(b, 'url');
    if (!/^https?:\/\//.test(url))
      throw new ControlInputError('url must start with http:// or https://');
    const token = str(b, 'token');
    if (!/^[A-Za-z0-9]{3,32}$/.test(token))
      throw new ControlInputError('token must be 3 to 32 letters or digits');
    const encodingAesKey = optStr(b, 'encodingAesKey');
    if (encodingAesKey !== undefined && !/^[A-Za-z0-9]{43}$/.test(encodingAesKey))
      throw new ControlInputError('encodingAesKey must be 43 letters or digits');
    const format = b.format ?? 'json';
    if (format !== 'json' && format !== 'xml')
      throw new ControlInputError('format must be json or xml');
    const mode = b.mode ?? (encodingAesKey ? 'safe' : 'plain');
    if (mode !== 'plain' && mode !== 'compat' && mode !== 'safe')
      throw new ControlInputError('mode must be plain, compat or safe');
    if (mode !== 'plain' && !encodingAesKey)
      throw new ControlInputError(`${mode} mode needs an encodingAesKey`);
    state.push.configure(appid, {
      url,
      token,
      ...(encodingAesKey ? { encodingAesKey } : {}),
      format,
      mode,
    });
    return { ok: true };
  });

  /**
   * Pushes an event to the app's configured URL as WeChat would (envelope fields filled in), and
   * answers how it went; with `dryRun`, only the request it would send.
   */
  app.post('/__control/push', async (request) => {
    const b = body(request);
    const appid = knownApp(state, b);
    const event = b.event;
    if (!event || typeof event !== 'object' || Array.isArray(event))
      throw new ControlInputError('event must be an object');
    const config = state.push.configOf(appid);
    if (!config) throw new ControlInputError(`no message push configured for ${appid}`);
    if (b.dryRun === true) return state.push.build(appid, config, event as Body);
    return state.push.deliver(appid, event as Body);
  });

  /** What content security answers: words that make a text risky or for review. */
  app.put('/__control/content-rules', (request) => {
    const b = body(request);
    const words = (key: string): string[] => {
      const value = b[key] ?? [];
      if (!Array.isArray(value) || !value.every((w) => typeof w === 'string' && w !== ''))
        throw new ControlInputError(`${key} must be a list of non-empty strings`);
      return value as string[];
    };
    state.content.riskyWords = words('risky');
    state.content.reviewWords = words('review');
    return { ok: true };
  });

  /** Verdicts for the next images submitted to media_check_async, in order (pass once used up). */
  app.post('/__control/media-verdicts', (request) => {
    const b = body(request);
    const verdicts = b.verdicts;
    if (
      !Array.isArray(verdicts) ||
      !verdicts.every((v) => v === 'pass' || v === 'review' || v === 'risky')
    )
      throw new ControlInputError('verdicts must be a list of pass, review or risky');
    state.content.mediaVerdicts.push(...(verdicts as ('pass' | 'review' | 'risky')[]));
    return { ok: true };
  });

  /** The image checks so far, once every one of them has pushed its event. */
  app.get('/__control/media-checks', async () => {
    await state.content.settled();
    return { checks: state.content.mediaChecks };
  });

  app.post('/__control/reset', () => {
    state.reset();
    return { ok: true };
  });
}
