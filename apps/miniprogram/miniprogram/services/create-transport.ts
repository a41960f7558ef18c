import type { TransportConfig } from '../config.js';
import { CloudTransport, HttpTransport, type Transport } from './transport.js';
import type { WxApi, WxCloudApi } from './wx-api.js';

/** A real appid; DevTools' `touristappid` is not one (the server then uses its default app). */
const APPID = /^wx[0-9A-Za-z]{16}$/;

/** The transport the config asks for; the only place that knows both exist. */
export function createTransport(
  wxApi: WxApi & { cloud?: WxCloudApi & { init(options: { env: string }): void } },
  config: TransportConfig,
): Transport {
  if (config.kind === 'http') {
    const appid = wxApi.getAccountInfoSync().miniProgram.appId;
    return new HttpTransport(wxApi, config.baseUrl, APPID.test(appid) ? { appid } : {});
  }
  if (!wxApi.cloud) throw new Error('wx.cloud is not available: enable cloud development first');
  wxApi.cloud.init({ env: config.env });
  return new CloudTransport(wxApi.cloud);
}
