/**
 * Home: login state, the user card, the welcome gift, log out. Built with Component() so it can be
 * rendered in tests. The gift is claimed on every show: the server grants it once per user (across
 * all the company's apps) and answers when it was granted after that.
 */
import type { PublicUser } from '@wxlogin/wechat-core';
import { describeError, describeWelcomeGift } from '../../services/messages.js';

Component({
  data: {
    loading: true,
    user: null as PublicUser | null,
    gift: '',
    error: '',
  },
  methods: {
    onShow() {
      void this.refresh();
    },
    async refresh() {
      const app = getApp<IAppOption>();
      try {
        const { user } = await app.auth.request('me', undefined);
        // Signed in now: whatever went wrong at launch is over.
        delete app.globalData.loginError;
        this.setData({ loading: false, user, error: '' });
        void this.showWelcomeGift();
      } catch (error) {
        this.setData({
          loading: false,
          user: null,
          // This attempt's own reason (offline, say), not a stale one from launch.
          error: describeError(error),
        });
      }
    },
    async showWelcomeGift() {
      try {
        const gift = await getApp<IAppOption>().auth.request('welcomeReward', undefined);
        this.setData({ gift: describeWelcomeGift(gift) });
      } catch {
        // The gift is a bonus: a failure here leaves the page as it is.
        this.setData({ gift: '' });
      }
    },
    async onLogin() {
      this.setData({ loading: true, error: '' });
      await getApp<IAppOption>()
        .auth.login()
        .catch(() => undefined);
      await this.refresh();
    },
    async onLogout() {
      await getApp<IAppOption>().auth.logout();
      this.setData({ user: null, gift: '' });
    },
    goProfile() {
      void wx.navigateTo({ url: '/pages/profile/profile' });
    },
    goPhone() {
      void wx.navigateTo({ url: '/pages/phone/phone' });
    },
  },
});
