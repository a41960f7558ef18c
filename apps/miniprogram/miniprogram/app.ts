import { transportConfig } from './config.js';
import { AuthService } from './services/auth.js';
import { createTransport } from './services/create-transport.js';
import { describeError } from './services/messages.js';
import { PrivacyGate, type PrivacyResolve } from './services/privacy.js';

App<IAppOption>({
  globalData: {},
  auth: new AuthService(wx, createTransport(wx, transportConfig)),
  privacy: new PrivacyGate(),

  onLaunch() {
    // Avatar, nickname and phone wait for the privacy agreement: show our popup when asked.
    // miniprogram-api-typings 5.x types this listener as (res) => void; WeChat calls it with
    // (resolve, eventInfo), as documented for wx.onNeedPrivacyAuthorization.
    const listener = (resolve: PrivacyResolve) => this.privacy.request(resolve);
    wx.onNeedPrivacyAuthorization(
      listener as unknown as WechatMiniprogram.OnNeedPrivacyAuthorizationCallback,
    );
    this.auth.ensureLoggedIn().then(
      () => delete this.globalData.loginError,
      (error: unknown) => {
        this.globalData.loginError = describeError(error);
      },
    );
  },
});
