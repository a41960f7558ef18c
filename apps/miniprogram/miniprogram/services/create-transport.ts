import type { TransportConfig } from '../config.js';
import { CloudTransport, HttpTransport, type Transport } from './transport.js';
import type { WxApi, WxCloudApi } from './wx-api.js';

/** The transport the config asks for; the only place that knows both exist. */
export function createTransport(
  wxApi: WxApi & { cloud?: WxCloudApi & { init(options: { env: string }): void } },
  config: TransportConfig,
): Transport {
  if (config.kind === 'http') return new HttpTransport(wxApi, config.baseUrl);
  if (!wxApi.cloud) throw new Error('wx.cloud is not available: enable cloud development first');
  wxApi.cloud.init({ env: config.env });
  return new CloudTransport(wxApi.cloud);
}
