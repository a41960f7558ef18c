/**
 * The use-cases' input schemas and the request types derived from them: the mini-program types
 * its request bodies with these, and the cloud functions parse their events with them, so a field
 * the server accepts is the field the client sends. zod is the only thing this entry loads.
 */
import type * as z from 'zod';
import type { consentInput, loginInput, phoneInput, profileInput } from './auth/schemas.js';

export {
  consentInput,
  loginInput,
  parseInput,
  phoneCodeInput,
  phoneInput,
  profileInput,
  wechatCode,
} from './auth/schemas.js';

/** POST /login, and the `login` cloud function's event. */
export type LoginRequest = z.input<typeof loginInput>;
/** POST /userinfo: a typed nickname and/or avatar, or the legacy button's encrypted data. */
export type ProfileRequest = z.input<typeof profileInput>;
/** POST /phone: the getPhoneNumber button's code, or its legacy encrypted data (server only). */
export type PhoneRequest = z.input<typeof phoneInput>;
/** POST /me/consent, and the `account` function's `consent` action (with `action` added). */
export type ConsentRequest = z.input<typeof consentInput>;
