/**
 * The Official Account's small server-rendered pages: signed in (avatar, nickname, log out),
 * signed out (a link to the login), and the error pages of the OAuth flow. Every interpolated
 * value goes through `html`, which escapes it; nothing is rendered raw.
 */
import type { PublicUser } from '@wxlogin/wechat-core';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Markup that is already safe (the output of `html`). */
class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolated = string | number | SafeHtml | readonly SafeHtml[] | undefined | false;

function escapeValue(value: Interpolated): string {
  if (value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map((v: SafeHtml) => v.value).join('');
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A template tag that escapes every interpolation unless it is itself `html`. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += escapeValue(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/**
 * What the browser may do on these pages: no scripts at all, images from anywhere (WeChat's avatar
 * host), inline styles, forms only to us, never framed.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // The callback URL carries a code and state: never hand it on as a Referer.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const STYLE = `
body{margin:0;font:16px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",system-ui,sans-serif;background:#f5f6f7;color:#1f2329}
main{max-width:420px;margin:12vh auto;padding:32px 24px;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.06);text-align:center}
h1{font-size:20px;margin:0 0 8px}
p{color:#646a73;margin:8px 0 20px}
.avatar{width:88px;height:88px;border-radius:50%;object-fit:cover;background:#e5e6eb;display:block;margin:0 auto 16px}
.nickname{font-size:22px;font-weight:600;margin:0 0 4px;color:#1f2329}
.button{display:inline-block;padding:10px 28px;border-radius:8px;border:0;font-size:16px;cursor:pointer;text-decoration:none}
.primary{background:#07c160;color:#fff}
.plain{background:#f2f3f5;color:#1f2329}
`;

function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="zh-CN">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          ${new SafeHtml(STYLE)}
        </style>
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `.value;
}

export function signedInPage(user: PublicUser): string {
  const name = user.nickname ?? '微信用户';
  return layout(
    `${name} · 已登录`,
    html`${user.avatarUrl ? html`<img class="avatar" src="${user.avatarUrl}" alt="" />` : html`<div class="avatar"></div>`}
      <h1 class="nickname" data-testid="nickname">${name}</h1>
      <p>已通过微信登录 · Signed in with WeChat</p>
      <form method="post" action="/oauth/logout">
        <button class="button plain" type="submit">退出登录 · Log out</button>
      </form>`,
  );
}

export function signedOutPage(loginHref: string): string {
  return layout(
    '微信登录',
    html`<h1>未登录 · Signed out</h1>
      <p>使用微信账号登录本页面。</p>
      <a class="button primary" id="login" href="${loginHref}">微信登录 · Sign in with WeChat</a>`,
  );
}

export interface ErrorPage {
  status: number;
  /** A stable code, also in the page (data-error) for tests and support. */
  code: string;
  title: string;
  detail: string;
}

export function errorPage(page: ErrorPage, retryHref: string): string {
  return layout(
    page.title,
    html`<h1 data-error="${page.code}">${page.title}</h1>
      <p>${page.detail}</p>
      <a class="button primary" href="${retryHref}">重新登录 · Try again</a>`,
  );
}
