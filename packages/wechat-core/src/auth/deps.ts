import type { AppRegistry } from '../apps.js';
import type { Store } from '../store/types.js';
import type { WechatClient } from '../wechat/client.js';
import type { StableTokenBroker } from '../wechat/token-broker.js';
import type { ContentSecurity } from './content.js';
import type { SessionManager } from './sessions.js';

/** Where use-cases report what an operator should see (pino's logger fits as is). */
export interface AuthLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Cloud storage, where the cloud runtime's avatars live (cloud.deleteFile). */
export interface CloudFiles {
  delete(fileIds: readonly string[]): Promise<void>;
}

/** Everything a use-case may touch, passed in explicitly by the runtime adapter. */
export interface AuthDeps {
  apps: AppRegistry;
  wechat: WechatClient;
  tokens: StableTokenBroker;
  store: Store;
  sessions: SessionManager;
  now: () => Date;
  log?: AuthLogger;
  /** WeChat's content security for nicknames and avatars; absent: nothing is checked. */
  content?: ContentSecurity;
  /** Cloud storage (cloud runtime): an erased account's cloud:// avatar is deleted there. */
  cloudFiles?: CloudFiles;
}
