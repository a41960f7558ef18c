/**
 * The request types derived from the use-cases' input schemas, so a field the server accepts is
 * the field the client sends (the mini-program types its request bodies with them), and what a
 * cloud function parses its own event with (`phone`: `phoneCodeInput`). zod is the only thing
 * this entry loads.
 */
import type * as z from 'zod';
import type { consentInput, loginInput, phoneInput, profileInput } from './auth/schemas.js';

export { parseInput, phoneCodeInput } from './auth/schemas.js';

/** POST /login, and the `login` cloud function's event. */
export type LoginRequest = z.input<typeof loginInput>;
/** POST /userinfo: a typed nickname and/or avatar, or the legacy button's encrypted data. */
export type ProfileRequest = z.input<typeof profileInput>;
/** POST /phone: the getPhoneNumber button's code, or its legacy encrypted data (server only). */
export type PhoneRequest = z.input<typeof phoneInput>;
/** POST /me/consent, and the `account` function's `consent` action (with `action` added). */
export type ConsentRequest = z.input<typeof consentInput>;
