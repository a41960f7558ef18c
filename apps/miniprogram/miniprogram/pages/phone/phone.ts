/**
 * Phone: <button open-type="getPhoneNumber"> hands a code that the backend exchanges. WeChat bills
 * each success (手机号快速验证), so a code is never thrown away (one arriving while another is
 * being exchanged waits its turn), and once a number is bound the page shows "更换手机号" first
 * instead of the billed button. Refusals get a message of their own.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/getPhoneNumber.html
 */
import { phoneVerification } from '../../config.js';
import { isClientError } from '../../services/errors.js';
import { describeError, maskPhone } from '../../services/messages.js';
import type { PhoneBody } from '../../services/transport.js';

/** Codes (or legacy encrypted data) waiting for the one in flight. */
const waiting: PhoneBody[] = [];

/** The message for a tap that produced no code. */
export function phoneRefusalMessage(detail: { errMsg: string; errno?: number }): string {
  // The quota toast is off (phone-number-no-quota-toast), so this is the user's only word of it.
  if (detail.errno === 1400001) return '该功能今日使用次数已达上限，请稍后再试';
  if (detail.errno === 104) return '你尚未同意《用户隐私保护指引》，同意后才能获取手机号';
  if (detail.errno === 112) return '小程序尚未在隐私协议中声明手机号用途';
  if (/deny|cancel/i.test(detail.errMsg)) return '你取消了授权，可随时再次绑定';
  return `获取手机号失败：${detail.errMsg}`;
}

Component({
  data: {
    busy: false,
    phone: '',
    changing: false,
    /** 手机号实时验证 instead of 快速验证 (config.ts). */
    realtime: (phoneVerification as string) === 'realtime',
    message: '',
    error: '',
  },
  methods: {
    onShow() {
      // Older base libraries answer the button with encrypted data instead of a code: make sure
      // the session_key our server holds is current before the user can tap.
      void getApp<IAppOption>()
        .auth.prepareForEncryptedData()
        .catch(() => undefined);
      getApp<IAppOption>()
        .auth.request('me', undefined)
        .then(
          ({ user }) =>
            this.setData({ phone: user.phone ? maskPhone(user.phone.purePhoneNumber) : '' }),
          (error: unknown) => this.setData({ error: describeError(error) }),
        );
    },
    /** A bound number is changed on purpose: only then does the billed button come back. */
    onChangePhone() {
      this.setData({ changing: true, message: '', error: '' });
    },
    async onGetPhoneNumber(event: WxEvents.GetPhoneNumber) {
      const { code, encryptedData, iv } = event.detail;
      const body = code ? { code } : encryptedData && iv ? { encryptedData, iv } : undefined;
      if (!body) {
        this.setData({ message: phoneRefusalMessage(event.detail) });
        return;
      }
      waiting.push(body);
      if (this.data.busy) return; // exchanged after the one in flight
      this.setData({ busy: true, message: '', error: '' });
      try {
        for (let next = waiting.shift(); next; next = waiting.shift()) await this.exchange(next);
      } finally {
        this.setData({ busy: false });
      }
    },
    async exchange(body: PhoneBody) {
      try {
        const { user } = await getApp<IAppOption>().auth.request('phone', body);
        this.setData({
          phone: user.phone ? maskPhone(user.phone.purePhoneNumber) : '',
          changing: false,
          message: '已绑定',
        });
      } catch (error) {
        if (isClientError(error, 'session_key_stale')) {
          await getApp<IAppOption>()
            .auth.recoverFromStaleKey()
            .catch(() => undefined);
          this.setData({ message: '登录状态已更新，请再点一次' });
          return;
        }
        this.setData({ error: describeError(error) });
      }
    },
  },
});
