/**
 * Shown when WeChat asks for the privacy agreement (wx.onNeedPrivacyAuthorization); its
 * agreePrivacyAuthorization button is what lets avatar, nickname and phone APIs proceed. The
 * guide's name comes from wx.getPrivacySetting, and tapping it opens the guide itself
 * (wx.openPrivacyContract), as the platform requires.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/user-privacy/PrivacyAuthorize.html
 */
const unsubscribers = new WeakMap<object, () => void>();

Component({
  data: { visible: false, contractName: '《用户隐私保护指引》' },
  lifetimes: {
    attached() {
      wx.getPrivacySetting({
        success: (setting) => {
          if (setting.privacyContractName) {
            this.setData({ contractName: setting.privacyContractName });
          }
        },
      });
      const unsubscribe = getApp<IAppOption>().privacy.subscribe((needed) =>
        this.setData({ visible: needed }),
      );
      unsubscribers.set(this, unsubscribe);
    },
    detached() {
      unsubscribers.get(this)?.();
    },
  },
  methods: {
    onAgree(event: WechatMiniprogram.CustomEvent) {
      getApp<IAppOption>().privacy.agree(event.currentTarget.id);
    },
    onDisagree() {
      getApp<IAppOption>().privacy.disagree();
    },
    onOpenContract() {
      wx.openPrivacyContract({});
    },
  },
});
