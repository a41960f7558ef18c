/**
 * Cloud function `mediacheck`: receives WeChat's `wxa_media_check` push (the verdict of an avatar
 * image the userinfo function submitted with security.mediaCheckAsync) and settles that avatar:
 * `pass` puts it on the profile, `risky` deletes the file, `review` or a download error leave it
 * pending (and logged). Every verdict is applied once; a replay changes nothing.
 *
 * Route the event here in the cloud console: 云开发 → 设置 → 其他设置 → 消息推送, push mode
 * 云函数, message type `event`, event type `wxa_media_check`, this function. The event is then the
 * push's JSON object itself (ToUserName, FromUserName, CreateTime, MsgType, Event, appid,
 * trace_id, version, result { suggest, label }, errcode...).
 * @see https://developers.weixin.qq.com/miniprogram/dev/wxcloudservice/wxcloud/guide/functions/openapi.md
 * @see https://developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_mediacheckasync.html
 *
 * Any cloud function can also be called from the mini-program: such a call (the platform adds
 * `userInfo` to its event, and getWXContext().SOURCE names the client) is refused as
 * unauthorized, so no user can approve their own image.
 */
import { WechatAuthError, applyMediaCheck } from '@wxlogin/wechat-core';
import { calledByClient, cloudDeps, initCloud, respond, withStore } from '@wxlogin/cloud-runtime';

initCloud();

export async function main(event: unknown, _context: unknown) {
  if (calledByClient(event)) {
    const refusal = new WechatAuthError(
      'unauthorized',
      "mediacheck receives WeChat's wxa_media_check push only; it is not called from the mini-program",
    );
    return respond(() => Promise.reject(refusal));
  }
  const push = event as Record<string, unknown>;
  if (push.Event !== 'wxa_media_check') {
    console.warn(JSON.stringify({ level: 'warn', event: 'push_ignored', type: push.Event }));
    return 'success';
  }
  try {
    const outcome = await withStore((store) => applyMediaCheck(push, cloudDeps(store)));
    console.log(
      JSON.stringify({ level: 'info', event: 'media_check', traceId: push.trace_id, outcome }),
    );
    return 'success';
  } catch (thrown) {
    // The invocation fails, so the push counts as not delivered; applying it again is harmless.
    const error = WechatAuthError.from(thrown);
    console.error(
      JSON.stringify({
        level: 'error',
        event: 'media_check_failed',
        traceId: push.trace_id,
        code: error.code,
        message: error.message,
      }),
    );
    throw error;
  }
}
