/**
 * Home: login state, the user card, the welcome gift, a pending deletion (with 撤销注销), log out. Built with Component() so it can be
 * rendered in tests. The gift is claimed on every show: the server grants it once per user (across
 * all the company's apps) and answers when it was granted after that.
 */
import type { PublicUser } from '@wxlogin/wechat-core';
import { describeDate, describeError, describeWelcomeGift } from '../../services/messages.js';

Component({
  data: {
    loading: true,
    user: null as PublicUser | null,
    gift: '',
    /** During a deletion's cooling-off period: its date, and the offer to cancel it. */
    deleteAt: '',
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
        this.setData({
          loading: false,
          user,
          error: '',
          deleteAt: user.deletion ? describeDate(user.deletion.deleteAt) : '',
        });
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
    goAccount() {
      void wx.navigateTo({ url: '/pages/account/account' });
    },
    /** 撤销注销, offered after a login during the cooling-off period (a login never cancels). */
    async onCancelDeletion() {
      try {
        await getApp<IAppOption>().auth.request('cancelDeletion', undefined);
        await this.refresh();
      } catch (error) {
        this.setData({ error: describeError(error) });
      }
    },
  },
});
