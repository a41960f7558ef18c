import type { AppRegistry } from '../apps.js';
import type { Store } from '../store/types.js';
import type { WechatClient } from '../wechat/client.js';
import type { StableTokenBroker } from '../wechat/token-broker.js';
import type { SessionManager } from './sessions.js';

/** Everything a use-case may touch, passed in explicitly by the runtime adapter. */
export interface AuthDeps {
  apps: AppRegistry;
  wechat: WechatClient;
  tokens: StableTokenBroker;
  store: Store;
  sessions: SessionManager;
  now: () => Date;
}
