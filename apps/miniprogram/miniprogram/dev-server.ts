/**
 * Where `npm start` serves the local server, as this mini-program reaches it; config.ts uses it.
 * `npm start` rewrites this file: 127.0.0.1 for DevTools' simulator, or with LAN=1 this machine's
 * LAN address, so a phone on the same network reaches it (real-device preview).
 */
export const DEV_SERVER_URL = 'http://127.0.0.1:3000';
