/**
 * Input schemas of the use-cases. Objects are strict: an unknown key (including `__proto__` and
 * `constructor`) is a bad request, not something to carry along.
 */
// Namespace import: it tree-shakes (`import { z }` pulls all of zod, locales included, into bundles).
import * as z from 'zod';
import { WechatAuthError } from '../errors.js';
import { NICKNAME_MAX_CHARS, checkNickname } from './nickname.js';

/** A pattern and message refusing control, format and line/paragraph separator characters. */
const noControlCharacters = [
  /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u,
  'must not contain control characters',
] as const;

/**
 * wx.login and phone codes: whatever WeChat (or DevTools: "the code is a mock one") issues,
 * bounded in length and free of control characters; WeChat itself decides whether it is valid.
 */
export const wechatCode = z
  .string()
  .min(1)
  .max(256)
  .regex(...noControlCharacters);
const base64Field = (max: number) => z.string().min(1).max(max);

export const loginInput = z.strictObject({ code: wechatCode });

/** A nickname the user typed: the one rule of nickname.ts, refused (not repaired) when broken. */
const nickname = z
  .string()
  .max(NICKNAME_MAX_CHARS * 8)
  .transform((value, ctx) => {
    const checked = checkNickname(value);
    if ('problem' in checked) {
      ctx.addIssue({ code: 'custom', message: checked.problem });
      return z.NEVER;
    }
    return checked.nickname;
  });
/** An avatar link as the profile stores it (also applied to WeChat's headimgurl). */
export const avatarUrl = z
  .string()
  .max(1024)
  .refine((s) => {
    try {
      const url = new URL(s);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

/**
 * A cloud storage file ID as wx.cloud.uploadFile answers it: `cloud://<env>.<bucket>/<path>`.
 * Whether its environment is acceptable is the use-case's decision (updateProfile).
 * @see https://developers.weixin.qq.com/miniprogram/dev/wxcloudservice/wxcloud/reference-sdk-api/storage/uploadFile/client.uploadFile.md
 */
export const CLOUD_FILE_ID = /^cloud:\/\/([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\/[^\s\\]+$/;

/** The profile's avatar: an http(s) link, or a cloud file ID (checked against the env later). */
const profileAvatar = z
  .string()
  .max(1024)
  .refine(
    (s) => CLOUD_FILE_ID.test(s) || avatarUrl.safeParse(s).success,
    'must be an http(s) URL or a cloud:// file ID',
  );

export const profileInput = z.union([
  z
    .strictObject({ nickname: nickname.optional(), avatarUrl: profileAvatar.optional() })
    .refine(
      (v) => v.nickname !== undefined || v.avatarUrl !== undefined,
      'give nickname or avatarUrl',
    ),
  z
    .strictObject({
      encryptedData: base64Field(32 * 1024),
      iv: base64Field(64),
      rawData: z
        .string()
        .min(1)
        .max(8 * 1024)
        .optional(),
      signature: z.string().min(1).max(64).optional(),
    })
    .refine(
      (v) => (v.rawData === undefined) === (v.signature === undefined),
      'rawData and signature go together',
    ),
]);

/** The getPhoneNumber button's code alone: all the cloud's `phone` function takes. */
export const phoneCodeInput = z.strictObject({ code: wechatCode });

export const phoneInput = z.union([
  phoneCodeInput,
  z.strictObject({ encryptedData: base64Field(32 * 1024), iv: base64Field(64) }),
]);

/**
 * The privacy-guideline agreement as the mini-program reports it: which document (`privacy`),
 * its version as the app names it, and when the user tapped "agree" (ISO 8601 with a zone).
 */
export const consentInput = z.strictObject({
  kind: z.literal('privacy'),
  version: z
    .string()
    .min(1)
    .max(64)
    .regex(...noControlCharacters),
  agreedAt: z.iso.datetime({ offset: true }),
});

export const identityContext = z.strictObject({
  appid: z.string().min(1).max(64),
  openid: z.string().min(1).max(128),
  unionid: z.string().min(1).max(128).optional(),
});

/**
 * For a body that matches no shape of a union (modern or legacy profile, say), the problem of the
 * shape it was meant to be: the branch that did not fail on unknown keys.
 */
function mostSpecific(issue: z.core.$ZodIssue | undefined): z.core.$ZodIssue | undefined {
  if (issue?.code !== 'invalid_union') return issue;
  const branch = issue.errors.find(
    (issues) => issues.length > 0 && !issues.some((i) => i.code === 'unrecognized_keys'),
  );
  const inner = branch?.[0];
  return inner ? { ...inner, path: [...issue.path, ...inner.path] } : issue;
}

/** Parses input with a schema; failure is bad_request with the first problem named. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = mostSpecific(parsed.error.issues[0]);
  const where = issue?.path.length ? issue.path.join('.') : 'body';
  throw new WechatAuthError('bad_request', `${where}: ${issue?.message ?? 'invalid input'}`);
}
