import type { PublicUser } from '@wxlogin/wechat-core';
import { maskPhone } from '../../services/messages.js';

/** Avatar, nickname and masked phone of the signed-in user. */
Component({
  properties: {
    user: { type: Object, value: {} },
  },
  data: { maskedPhone: '' },
  observers: {
    user(user: Partial<PublicUser>) {
      this.setData({ maskedPhone: user.phone ? maskPhone(user.phone.purePhoneNumber) : '' });
    },
  },
});
