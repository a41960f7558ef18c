/**
 * The one place that chooses how the client reaches its backend. Pages never know which.
 * - http: the self-hosted server; `npm start` serves it at http://127.0.0.1:3000, or on the LAN with
 *   LAN=1 (DevTools needs "do not verify request domain" for that). In production, an https domain
 *   on the allow-list.
 * - cloud: WeChat cloud functions login/userinfo/phone/rewards in your cloud environment.
 */
import { DEV_SERVER_URL } from './dev-server.js';

export type TransportConfig = { kind: 'http'; baseUrl: string } | { kind: 'cloud'; env: string };

/**
 * The legacy getUserInfo button on the profile page. Off: today it answers only anonymous data
 * (微信用户 and a grey avatar, never stored); turn it on only for old WeChat clients you support.
 */
export const legacyProfileButton = false;

/**
 * The phone button: `quick` (手机号快速验证, ¥0.03 a success) or `realtime` (手机号实时验证:
 * the carrier checks the number on every request, ¥0.04 a success). Both answer a code the
 * backend exchanges the same way.
 */
export const phoneVerification: 'quick' | 'realtime' = 'quick';

/** Local development: the server `npm start` runs (dev-server.ts, which `npm start` writes). */
export const transportConfig: TransportConfig = { kind: 'http', baseUrl: DEV_SERVER_URL };
