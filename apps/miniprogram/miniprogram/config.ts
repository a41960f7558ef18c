/**
 * The one place that chooses how the client reaches its backend. Pages never know which.
 * - http: the self-hosted server; `npm start` serves it at http://127.0.0.1:3000 (DevTools needs
 *   "do not verify request domain" for that). In production, an https domain on the allow-list.
 * - cloud: WeChat cloud functions login/userinfo/phone/rewards in your cloud environment.
 */
export type TransportConfig = { kind: 'http'; baseUrl: string } | { kind: 'cloud'; env: string };

export const transportConfig: TransportConfig = { kind: 'http', baseUrl: 'http://127.0.0.1:3000' };
