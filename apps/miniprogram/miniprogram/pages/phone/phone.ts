/**
 * Phone: <button open-type="getPhoneNumber"> hands a code that the backend exchanges. Each success
 * costs the account money, so the button is throttled; refusals get a message of their own.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/getPhoneNumber.html
 */
import { isClientError } from '../../services/errors.js';
import { describeError, maskPhone } from '../../services/messages.js';

/** No second exchange within this long of a success. */
const THROTTLE_MS = 10_000;
let lastSuccessAt = 0;

/** The message for a tap that produced no code. */
export function phoneRefusalMessage(detail: { errMsg: string; errno?: number }): string {
  if (detail.errno === 1400001) return '该功能今日使用次数已达上限，请稍后再试';
  if (detail.errno === 112) return '小程序尚未在隐私协议中声明手机号用途';
  if (/deny|cancel/i.test(detail.errMsg)) return '你取消了授权，可随时再次绑定';
  return `获取手机号失败：${detail.errMsg}`;
}

Component({
  data: { busy: false, phone: '', message: '', error: '' },
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
    async onGetPhoneNumber(event: WxEvents.GetPhoneNumber) {
      const { code, encryptedData, iv } = event.detail;
      const body = code ? { code } : encryptedData && iv ? { encryptedData, iv } : undefined;
      if (!body) {
        this.setData({ message: phoneRefusalMessage(event.detail) });
        return;
      }
      if (this.data.busy || Date.now() - lastSuccessAt < THROTTLE_MS) {
        this.setData({ message: '请稍候再试' });
        return;
      }
      this.setData({ busy: true, message: '', error: '' });
      try {
        const { user } = await getApp<IAppOption>().auth.request('phone', body);
        lastSuccessAt = Date.now();
        this.setData({
          phone: user.phone ? maskPhone(user.phone.purePhoneNumber) : '',
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
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});
