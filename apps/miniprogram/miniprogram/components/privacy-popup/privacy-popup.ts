/**
 * Shown when WeChat asks for the privacy agreement (wx.onNeedPrivacyAuthorization); its
 * agreePrivacyAuthorization button is what lets avatar, nickname and phone APIs proceed.
 */
const unsubscribers = new WeakMap<object, () => void>();

Component({
  data: { visible: false },
  lifetimes: {
    attached() {
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
  },
});
