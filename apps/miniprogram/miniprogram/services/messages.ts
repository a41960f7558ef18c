import { isClientError } from './errors.js';

/** What a page shows for a failure: short, and saying what the user can do. */
export function describeError(error: unknown): string {
  if (!isClientError(error)) return '出了点问题，请稍后再试';
  switch (error.code) {
    case 'network':
    case 'login_failed': // wx.login itself failed: offline, as a rule
      return '网络不可用，请检查网络后重试';
    case 'timeout':
    case 'wechat_timeout':
      return '请求超时，请稍后再试';
    case 'rate_limited':
      return `操作太频繁，请${error.retryAfterSeconds ?? 60}秒后再试`;
    case 'risky_user':
      return '微信暂时限制了此账号的登录';
    case 'session_key_stale':
      return '登录状态已更新，请再点一次';
    case 'unauthorized':
      return '登录已失效，请重新进入小程序';
    case 'invalid_code':
    case 'code_used':
      return '授权已过期，请再点一次';
    case 'bad_request':
      return `提交的内容不正确：${error.message}`;
    case 'content_rejected':
      return '内容未通过微信安全检测，请换一个';
    case 'deletion_not_pending':
      return '没有可撤销的注销申请';
    default:
      return '服务暂时不可用，请稍后再试';
  }
}

/** 138****1234: enough to recognise a number, not enough to read it over a shoulder. */
export function maskPhone(purePhoneNumber: string): string {
  if (purePhoneNumber.length < 7) return purePhoneNumber.replace(/.(?=.{2})/g, '*');
  return `${purePhoneNumber.slice(0, 3)}****${purePhoneNumber.slice(-4)}`;
}

/** The welcome gift as the home page says it: just granted, or when it was. */
export function describeWelcomeGift(gift: { granted: boolean; grantedAt: string }): string {
  if (gift.granted) return '🎁 新人礼包已发放到你的账户';
  return `🎁 你已于 ${describeDate(gift.grantedAt)} 领取新人礼包`;
}

/** 2026-11-30 (or with the time: 2026-11-30 14:00), in the phone's time zone. */
export function describeDate(iso: string, withTime = false): string {
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return withTime ? `${day} ${pad(at.getHours())}:${pad(at.getMinutes())}` : day;
}

/** What an export holds, in a line: so the user sees what was copied. */
export function summarizeExport(data: {
  identities: unknown[];
  sessions: unknown[];
  rewards: unknown[];
  consents: unknown[];
  avatars: unknown[];
}): string {
  return `已导出：资料、${data.identities.length} 个微信身份、${data.sessions.length} 台设备、${data.rewards.length} 项奖励、${data.consents.length} 条同意记录、${data.avatars.length} 张头像`;
}
