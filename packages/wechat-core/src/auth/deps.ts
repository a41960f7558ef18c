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

/** Cloud storage, where the cloud runtime's avatars live (cloud.deleteFile, getTempFileURL). */
export interface CloudFiles {
  delete(fileIds: readonly string[]): Promise<void>;
  /**
   * A temporary HTTPS link to the file, for WeChat's image check to download (a cloud:// ID is
   * not downloadable); bad_request when there is no such file.
   */
  temporaryUrl(fileId: string): Promise<string>;
}

/** Everything a use-case may touch, passed in explicitly by the runtime adapter. */
export interface AuthDeps {
  apps: AppRegistry;
  wechat: WechatClient;
  tokens: StableTokenBroker;
  store: Store;
  sessions: SessionManager;
  now: () => Date;
  log?: AuthLogger | undefined;
  /** WeChat's content security for nicknames and avatars; absent: nothing is checked. */
  content?: ContentSecurity;
  /**
   * Cloud storage (cloud runtime): a new cloud:// avatar is checked through a temporary link, and
   * an erased account's avatar files are deleted there.
   */
  cloudFiles?: CloudFiles;
}
