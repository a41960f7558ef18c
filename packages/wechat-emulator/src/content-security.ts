/**
 * Content security v2: msgSecCheck (text, answered at once) and mediaCheckAsync (an image,
 * downloaded from its URL and judged later, the verdict pushed as the `wxa_media_check` event).
 *
 * Reproduced from the docs:
 * - version must be 2, scene 1..4 (else 40129), openid a user of this app (else 40003) who opened
 *   the mini-program in the last two hours (else 61010); text at most 2500 characters;
 *   media_type 1 or 2 (else 40004).
 * - A risky text is errcode 0 with result.suggest "risky" (87014 is v1 only).
 * - The image is fetched from media_url (at most 10 MB); one that cannot be fetched gets the
 *   event with errcode -1008. The event: ToUserName, FromUserName, CreateTime, MsgType "event",
 *   Event "wxa_media_check", appid, trace_id, version 2, detail[], errcode, errmsg, result.
 * Not reproduced: WeChat's judgement itself (a test sets the verdicts: words for text, a queue
 * for images; pass otherwise), the 4000/min and 2000/min quotas, audio (media_type 1 is accepted
 * and judged like an image), the up-to-30-minute delay (the event follows the download at once),
 * and routing the event to a cloud function (云开发 消息推送): the event is kept on the check
 * (`GET /__control/media-checks`), and the cloud functions' tests hand it to theirs.
 * @see https://developers.weixin.qq.com/miniprogram/dev/wxcloudservice/wxcloud/guide/functions/openapi.md
 * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_msgseccheck.html
 * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_mediacheckasync.html
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { answer, fail, jsonBody, ok } from './answers.js';
import type { EmulatorState } from './state.js';

export type Suggest = 'pass' | 'review' | 'risky';

/** The label WeChat gives each verdict here (100 正常, 21000 其他). */
const LABEL: Readonly<Record<Suggest, number>> = { pass: 100, review: 21000, risky: 21000 };
const VISIT_WINDOW_MS = 2 * 3600_000;
const MAX_TEXT_CHARS = 2500;
const MAX_MEDIA_BYTES = 10 * 1024 * 1024;

export interface MediaCheck {
  traceId: string;
  appid: string;
  openid: string;
  mediaUrl: string;
  /** HTTP status of the download (null: it failed); set once done. */
  downloadStatus?: number | null;
  suggest?: Suggest;
  /** Whether the event reached the app's message-push URL. */
  delivered?: boolean;
  /**
   * The wxa_media_check message, once judged: what the push carries (decrypted), and what a cloud
   * function routed this event receives (tests of the cloud functions deliver it themselves).
   */
  event?: Record<string, unknown>;
}

export class ContentChecks {
  riskyWords: string[] = [];
  reviewWords: string[] = [];
  /** Verdicts for the next images, in order; pass once empty. */
  mediaVerdicts: Suggest[] = [];
  readonly mediaChecks: MediaCheck[] = [];
  /** Resolves once every image check started so far has pushed its event. */
  private pending: Promise<unknown>[] = [];

  judgeText(content: string): Suggest {
    if (this.riskyWords.some((word) => content.includes(word))) return 'risky';
    if (this.reviewWords.some((word) => content.includes(word))) return 'review';
    return 'pass';
  }

  track(work: Promise<unknown>): void {
    this.pending.push(work);
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.pending);
  }
}

export function traceId(): string {
  const hex = randomBytes(12).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}`;
}

/** The checks both calls share: token, body, version, scene, a recent user of this app. */
function common(
  state: EmulatorState,
  request: FastifyRequest,
): { appid: string; openid: string; body: Record<string, unknown> } | { errcode: number } {
  const token = state.tokens.checkAccessToken(
    (request.query as Record<string, string>).access_token,
  );
  if (token.errcode) return { errcode: token.errcode };
  const body = jsonBody(request);
  if (!body || body.version !== 2) return { errcode: 47001 };
  if (typeof body.scene !== 'number' || ![1, 2, 3, 4].includes(body.scene))
    return { errcode: 40129 };
  const appid = token.appid ?? '';
  const openid = typeof body.openid === 'string' ? body.openid : '';
  const user = state.logins.getUser(appid, openid);
  if (!user) return { errcode: 40003 };
  if (state.now() - user.lastVisitAt > VISIT_WINDOW_MS) return { errcode: 61010 };
  return { appid, openid, body };
}

export function registerContentSecurityRoutes(app: FastifyInstance, state: EmulatorState): void {
  app.post('/wxa/msg_sec_check', (request) => {
    const checked = common(state, request);
    if ('errcode' in checked) return fail(checked.errcode);
    const content = checked.body.content;
    if (typeof content !== 'string' || content === '' || [...content].length > MAX_TEXT_CHARS)
      return fail(47001);
    const suggest = state.content.judgeText(content);
    return ok({
      result: { suggest, label: LABEL[suggest] },
      detail: [
        { strategy: 'content_model', errcode: 0, suggest, label: LABEL[suggest], prob: 90 },
        { strategy: 'keyword', errcode: 0 },
      ],
      trace_id: traceId(),
    });
  });

  app.post('/wxa/media_check_async', (request) => {
    const checked = common(state, request);
    if ('errcode' in checked) return fail(checked.errcode);
    const { media_url: mediaUrl, media_type: mediaType } = checked.body;
    if (mediaType !== 1 && mediaType !== 2) return fail(40004);
    if (typeof mediaUrl !== 'string' || !/^https?:\/\//.test(mediaUrl)) return fail(47001);
    const check: MediaCheck = {
      traceId: traceId(),
      appid: checked.appid,
      openid: checked.openid,
      mediaUrl,
    };
    state.content.mediaChecks.push(check);
    state.content.track(judgeMedia(state, check));
    return ok({ trace_id: check.traceId });
  });
}

/** Downloads the image, takes the next verdict, and pushes the event to the app. */
async function judgeMedia(state: EmulatorState, check: MediaCheck): Promise<void> {
  let downloaded = false;
  try {
    const response = await fetch(check.mediaUrl, { signal: AbortSignal.timeout(10_000) });
    const bytes = await response.arrayBuffer();
    check.downloadStatus = response.status;
    downloaded = response.ok && bytes.byteLength > 0 && bytes.byteLength <= MAX_MEDIA_BYTES;
  } catch {
    check.downloadStatus = null;
  }
  const suggest = downloaded ? (state.content.mediaVerdicts.shift() ?? 'pass') : undefined;
  if (suggest) check.suggest = suggest;
  const event = {
    Event: 'wxa_media_check',
    FromUserName: check.openid,
    appid: check.appid,
    trace_id: check.traceId,
    version: 2,
    ...(suggest
      ? {
          detail: [
            { strategy: 'content_model', errcode: 0, suggest, label: LABEL[suggest], prob: 90 },
          ],
          ...answer(0),
          result: { suggest, label: LABEL[suggest] },
        }
      : { detail: [], ...answer(-1008) }),
  };
  check.event = state.push.envelope(check.appid, event);
  if (!state.push.configOf(check.appid)) {
    check.delivered = false;
    return;
  }
  check.delivered = (await state.push.deliver(check.appid, check.event)).delivered;
}
