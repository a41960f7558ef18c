/**
 * ensureScope: wx.getSetting, then wx.authorize when the user was never asked; when they declined
 * before, WeChat will not ask again, so a modal explains and leads to wx.openSetting.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/authorize.html
 */
export interface ScopeWx {
  getSetting(option: {
    success?: (r: { authSetting: Record<string, boolean | undefined> }) => void;
    fail?: () => void;
  }): void;
  authorize(option: { scope: string; success?: () => void; fail?: () => void }): void;
  showModal(option: {
    title: string;
    content: string;
    confirmText?: string;
    success?: (r: { confirm: boolean }) => void;
    fail?: () => void;
  }): void;
  openSetting(option: {
    success?: (r: { authSetting: Record<string, boolean | undefined> }) => void;
    fail?: () => void;
  }): void;
}

function settings(wxApi: ScopeWx): Promise<Record<string, boolean | undefined>> {
  return new Promise((resolve) =>
    wxApi.getSetting({ success: (r) => resolve(r.authSetting), fail: () => resolve({}) }),
  );
}

/** Resolves true when the scope is granted (now or already), false when the user keeps it off. */
export async function ensureScope(wxApi: ScopeWx, scope: string, why: string): Promise<boolean> {
  const current = (await settings(wxApi))[scope];
  if (current === true) return true;
  if (current === undefined) {
    return new Promise((resolve) =>
      wxApi.authorize({ scope, success: () => resolve(true), fail: () => resolve(false) }),
    );
  }
  const confirmed = await new Promise<boolean>((resolve) =>
    wxApi.showModal({
      title: '需要授权',
      content: why,
      confirmText: '去设置',
      success: (r) => resolve(r.confirm),
      fail: () => resolve(false),
    }),
  );
  if (!confirmed) return false;
  return new Promise((resolve) =>
    wxApi.openSetting({
      success: (r) => resolve(r.authSetting[scope] === true),
      fail: () => resolve(false),
    }),
  );
}
