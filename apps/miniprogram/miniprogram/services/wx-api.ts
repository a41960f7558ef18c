/**
 * The slice of `wx` the services use. The app passes the real `wx`; tests pass a stand-in. Keeping
 * it explicit makes the services runnable in Node and shows what they depend on.
 */
export interface WxApi {
  login(option: {
    success?: (result: { code: string }) => void;
    fail?: (error: { errMsg: string }) => void;
  }): void;
  checkSession(option: { success?: () => void; fail?: () => void }): void;
  request(option: {
    url: string;
    method?: 'GET' | 'POST' | 'DELETE';
    data?: Record<string, unknown>;
    header?: Record<string, string>;
    timeout?: number;
    success?: (result: {
      statusCode: number;
      data: unknown;
      header: Record<string, string>;
    }) => void;
    fail?: (error: { errMsg: string; errno?: number }) => void;
  }): void;
  uploadFile(option: {
    url: string;
    filePath: string;
    name: string;
    header?: Record<string, string>;
    success?: (result: { statusCode: number; data: string }) => void;
    fail?: (error: { errMsg: string }) => void;
  }): void;
  /** Which mini-program this is; `touristappid` in DevTools without an appid. */
  getAccountInfoSync(): { miniProgram: { appId: string } };
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
}

/** wx.cloud.callFunction's shape. */
export interface WxCloudApi {
  callFunction(option: {
    name: string;
    data?: Record<string, unknown>;
  }): Promise<{ result: unknown }>;
  uploadFile(option: { cloudPath: string; filePath: string }): Promise<{ fileID: string }>;
  /** wx.cloud.CloudID(id): sent inside callFunction's data, replaced by the open data it names. */
  CloudID(cloudID: string): unknown;
}
