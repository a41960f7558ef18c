/** Home: login state, the user card, log out. Built with Component() so it can be rendered in tests. */
import type { PublicUser } from '@wxlogin/wechat-core';
import { describeError } from '../../services/messages.js';

Component({
  data: {
    loading: true,
    user: null as PublicUser | null,
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
        this.setData({ loading: false, user, error: '' });
      } catch (error) {
        this.setData({
          loading: false,
          user: null,
          error: app.globalData.loginError ?? describeError(error),
        });
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
      this.setData({ user: null });
    },
    goProfile() {
      void wx.navigateTo({ url: '/pages/profile/profile' });
    },
    goPhone() {
      void wx.navigateTo({ url: '/pages/phone/phone' });
    },
  },
});
