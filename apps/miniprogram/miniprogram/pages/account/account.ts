/**
 * 账号与安全: my devices (and signing out the others), a copy of my data, deleting my account
 * (what goes, when, confirmed twice) and cancelling a deletion during its cooling-off period.
 * Built with Component() so it can be rendered in tests.
 */
import type { DeletionInfo, SessionInfo } from '@wxlogin/wechat-core';
import { describeDate, describeError, summarizeExport } from '../../services/messages.js';

interface DeviceRow extends SessionInfo {
  /** 2026-11-23 14:00: what the list shows. */
  seen: string;
}

/** wx.showModal as a promise: true when the user tapped the confirm button. */
function confirm(title: string, content: string, confirmText: string): Promise<boolean> {
  return new Promise((resolve) => {
    wx.showModal({
      title,
      content,
      confirmText,
      confirmColor: '#d9534f',
      success: (result) => resolve(result.confirm),
      fail: () => resolve(false),
    });
  });
}

Component({
  data: {
    loading: true,
    /** The backend has sessions to list and end (the server; not the cloud functions). */
    hasDevices: true,
    devices: [] as DeviceRow[],
    /** The pending deletion, if any. */
    deletion: null as DeletionInfo | null,
    deleteAt: '',
    exportSummary: '',
    message: '',
    error: '',
    busy: false,
  },
  methods: {
    onShow() {
      void this.refresh();
    },
    async refresh() {
      const auth = getApp<IAppOption>().auth;
      try {
        const hasDevices = auth.capabilities.sessions;
        const [{ user }, { sessions }] = await Promise.all([
          auth.request('me', undefined),
          hasDevices ? auth.request('sessions', undefined) : { sessions: [] },
        ]);
        this.setData({
          loading: false,
          error: '',
          hasDevices,
          deletion: user.deletion ?? null,
          deleteAt: user.deletion ? describeDate(user.deletion.deleteAt) : '',
          devices: sessions.map((s) => ({ ...s, seen: describeDate(s.lastSeenAt, true) })),
        });
      } catch (error) {
        this.setData({ loading: false, error: describeError(error) });
      }
    },
    /** Ends every session but this one, in one request. */
    async onSignOutOthers() {
      const others = this.data.devices.filter((d) => !d.current);
      if (others.length === 0) return this.setData({ message: '没有其他设备' });
      this.setData({ busy: true, message: '', error: '' });
      const auth = getApp<IAppOption>().auth;
      try {
        const { ended } = await auth.request('endOtherSessions', undefined);
        this.setData({ message: `已退出 ${ended} 台其他设备` });
      } catch (error) {
        this.setData({ error: describeError(error) });
      } finally {
        this.setData({ busy: false });
        await this.refresh();
      }
    },
    /** A copy of everything stored about me, to the clipboard: I choose where it goes from there. */
    async onExport() {
      this.setData({ busy: true, message: '', error: '' });
      try {
        const data = await getApp<IAppOption>().auth.request('exportData', undefined);
        const text = JSON.stringify(data, null, 2);
        await new Promise<void>((resolve, reject) =>
          wx.setClipboardData({ data: text, success: () => resolve(), fail: reject }),
        );
        this.setData({ exportSummary: summarizeExport(data), message: '已复制到剪贴板' });
      } catch (error) {
        this.setData({ error: describeError(error) });
      } finally {
        this.setData({ busy: false });
      }
    },
    async onDeleteAccount() {
      const first = await confirm(
        '注销账号',
        '注销后将删除你的资料、头像、手机号、登录设备和同意记录，无法恢复。提交后有冷静期，冷静期内重新登录可撤销。',
        '继续',
      );
      if (!first) return;
      const second = await confirm(
        '再次确认',
        '确定注销这个账号吗？所有设备将立即退出登录。',
        '确定注销',
      );
      if (!second) return;
      this.setData({ busy: true, message: '', error: '' });
      try {
        const { deletion } = await getApp<IAppOption>().auth.request('deleteAccount', undefined);
        this.setData({
          deletion,
          deleteAt: describeDate(deletion.deleteAt),
          devices: [],
          message: `账号将于 ${describeDate(deletion.deleteAt)} 注销`,
        });
      } catch (error) {
        this.setData({ error: describeError(error) });
      } finally {
        this.setData({ busy: false });
      }
    },
    /** 撤销注销: needs a fresh login, which the auth service makes when the old token is gone. */
    async onCancelDeletion() {
      this.setData({ busy: true, message: '', error: '' });
      try {
        await getApp<IAppOption>().auth.request('cancelDeletion', undefined);
        this.setData({ deletion: null, deleteAt: '', message: '已撤销注销' });
        await this.refresh();
      } catch (error) {
        this.setData({ error: describeError(error) });
      } finally {
        this.setData({ busy: false });
      }
    },
  },
});
