/** The WeChat apps this deployment serves, by appid. Built once by the adapter from its config. */
import { WechatAuthError } from './errors.js';
import type { AppCredentials } from './wechat/client.js';

export class AppRegistry {
  private readonly byAppid: ReadonlyMap<string, AppCredentials>;

  /** The first app is the default one (used when a request names none). */
  constructor(apps: readonly AppCredentials[]) {
    if (apps.length === 0) throw new RangeError('AppRegistry needs at least one app');
    this.byAppid = new Map(apps.map((app) => [app.appid, { ...app }]));
    this.defaultAppid = (apps[0] as AppCredentials).appid;
  }

  readonly defaultAppid: string;

  has(appid: string): boolean {
    return this.byAppid.has(appid);
  }

  /** The app's credentials; bad_request for an appid this deployment does not serve. */
  get(appid: string = this.defaultAppid): AppCredentials {
    const app = this.byAppid.get(appid);
    if (!app)
      throw new WechatAuthError('bad_request', 'this server is not configured for that appid');
    return app;
  }
}
