import type { PublicUser } from '@wxlogin/wechat-core';
import { maskPhone } from '../../services/messages.js';

/**
 * Avatar, nickname and masked phone of the signed-in user. An avatar that does not load (one
 * WeChat's image check has not passed yet is served to no <image>, which sends no token) shows
 * the placeholder instead of a broken image.
 */
Component({
  properties: {
    user: { type: Object, value: {} },
  },
  data: { maskedPhone: '', avatarFailed: false },
  observers: {
    user(user: Partial<PublicUser>) {
      this.setData({
        maskedPhone: user.phone ? maskPhone(user.phone.purePhoneNumber) : '',
        avatarFailed: false,
      });
    },
  },
  methods: {
    onAvatarError() {
      this.setData({ avatarFailed: true });
    },
  },
});
