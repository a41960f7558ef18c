import { transportConfig } from './config.js';
import { AuthService } from './services/auth.js';
import { ConsentReporter } from './services/consent.js';
import { createTransport } from './services/create-transport.js';
import { describeError } from './services/messages.js';
import { PrivacyGate, type PrivacyResolve } from './services/privacy.js';

const auth = new AuthService(wx, createTransport(wx, transportConfig));
const consent = new ConsentReporter(wx, auth);

App<IAppOption>({
  globalData: {},
  auth,
  // The agreement is reported to the backend (kept with the account, exported, deleted with it).
  privacy: new PrivacyGate(() => void consent.agreed()),

  onLaunch() {
    // Avatar, nickname and phone wait for the privacy agreement: show our popup when asked.
    // miniprogram-api-typings 5.x types this listener as (res) => void; WeChat calls it with
    // (resolve, eventInfo), as documented for wx.onNeedPrivacyAuthorization.
    const listener = (resolve: PrivacyResolve) => this.privacy.request(resolve);
    wx.onNeedPrivacyAuthorization(
      listener as unknown as WechatMiniprogram.OnNeedPrivacyAuthorizationCallback,
    );
    this.auth.ensureLoggedIn().then(
      () => {
        delete this.globalData.loginError;
        // An agreement that could not be reported last time goes now.
        void consent.flush();
      },
      (error: unknown) => {
        this.globalData.loginError = describeError(error);
      },
    );
  },
});
