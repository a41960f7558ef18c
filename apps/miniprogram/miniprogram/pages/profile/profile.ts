/**
 * Profile: the current way (chooseAvatar + nickname input; the avatar is a temporary file, so it is
 * uploaded first) and the legacy getUserInfo button, whose encrypted data needs a current session_key.
 */
import { legacyProfileButton } from '../../config.js';
import { isClientError } from '../../services/errors.js';
import { describeError } from '../../services/messages.js';

/** In cloud mode a new avatar waits for WeChat's image check; its owner sees it meanwhile. */
const AVATAR_PENDING = '新头像审核通过后他人可见';

function shownAvatar(user: { avatarUrl?: string; avatarPending?: string }): string {
  return user.avatarPending ?? user.avatarUrl ?? '';
}

Component({
  data: {
    avatarUrl: '',
    /** A chosen, not yet uploaded avatar (wxfile://... or http://tmp/...). */
    pendingAvatar: '',
    nickname: '',
    /** WeChat's nickname check refused what was typed (the input was cleared). */
    nicknameRefused: false,
    legacyButton: legacyProfileButton,
    saving: false,
    message: '',
    error: '',
  },
  methods: {
    onShow() {
      const auth = getApp<IAppOption>().auth;
      // Before a legacy button can be tapped: the server must hold the key the data will use.
      void auth.prepareForEncryptedData().catch(() => undefined);
      auth.request('me', undefined).then(
        ({ user }) =>
          this.setData({
            avatarUrl: shownAvatar(user),
            nickname: user.nickname ?? '',
            message: user.avatarPending ? AVATAR_PENDING : '',
          }),
        (error: unknown) => this.setData({ error: describeError(error) }),
      );
    },
    onChooseAvatar(event: WxEvents.ChooseAvatar) {
      this.setData({ avatarUrl: event.detail.avatarUrl, pendingAvatar: event.detail.avatarUrl });
    },
    onNicknameInput(event: WxEvents.NicknameInput) {
      this.setData({ nickname: event.detail.value, nicknameRefused: false });
    },
    /** WeChat checked the nickname: a refused one is gone from the input, and never saved. */
    onNicknameReview(event: WxEvents.NicknameReview) {
      if (event.detail.pass || event.detail.timeout) return;
      this.setData({
        nickname: '',
        nicknameRefused: true,
        message: '该昵称未通过微信安全检测，请换一个',
      });
    },
    /** The form's submit (its value is what WeChat let through), or a direct call. */
    async onSave(event?: WxEvents.FormSubmit) {
      if (this.data.saving) return;
      const auth = getApp<IAppOption>().auth;
      const submitted = event?.detail.value.nickname;
      const typed = typeof submitted === 'string' ? submitted : this.data.nickname;
      this.setData({ saving: true, message: '', error: '' });
      try {
        const avatarUrl = this.data.pendingAvatar
          ? await auth.uploadAvatar(this.data.pendingAvatar)
          : undefined;
        const nickname = this.data.nicknameRefused ? '' : typed.trim();
        if (!avatarUrl && !nickname) {
          this.setData({ message: '请选择头像或填写昵称' });
          return;
        }
        const { user } = await auth.request('userinfo', {
          ...(nickname ? { nickname } : {}),
          ...(avatarUrl ? { avatarUrl } : {}),
        });
        this.setData({
          message: user.avatarPending ? `已保存，${AVATAR_PENDING}` : '已保存',
          pendingAvatar: '',
          avatarUrl: shownAvatar(user),
          nickname: user.nickname ?? '',
        });
      } catch (error) {
        this.setData({ error: describeError(error) });
      } finally {
        this.setData({ saving: false });
      }
    },
    async onGetUserInfo(event: WxEvents.GetUserInfo) {
      const auth = getApp<IAppOption>().auth;
      // Encrypted data for the server; a CloudID for the cloud functions (they hold no key).
      const body = auth.legacyProfileBody(event.detail);
      if (!body) {
        this.setData({ message: '你取消了授权' });
        return;
      }
      try {
        const { user } = await auth.request('userinfo', body);
        this.setData({
          message: '已使用微信资料',
          nickname: user.nickname ?? '',
          avatarUrl: user.avatarUrl ?? '',
        });
      } catch (error) {
        if (isClientError(error, 'session_key_stale')) {
          // Never wx.login inside the button callback; log in now, then the next tap is fresh.
          await auth.recoverFromStaleKey().catch(() => undefined);
          this.setData({ message: '登录状态已更新，请再点一次' });
          return;
        }
        this.setData({ error: describeError(error) });
      }
    },
  },
});
