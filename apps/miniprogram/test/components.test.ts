// @vitest-environment jsdom
/**
 * Pages and components rendered with miniprogram-simulate: real WXML, data binding and events;
 * the app's services replaced by recorders so the calls a tap causes can be observed.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PrivacyGate } from '../miniprogram/services/privacy.js';
import { buildForSimulate } from './simulate-build.js';

/** The DOM as far as these tests touch it (the mini-program's tsconfig has no DOM library). */
interface DomNode {
  textContent: string | null;
}
interface TestDocument {
  createElement(tag: string): DomNode;
}
const testDocument = () => (globalThis as unknown as { document: TestDocument }).document;

interface SimNode {
  dom: DomNode;
  dispatchEvent(name: string, options?: { detail?: unknown }): void;
}
interface SimComponent {
  data: Record<string, unknown>;
  instance: Record<string, (...args: unknown[]) => unknown>;
  attach(parent: DomNode): void;
  detach(): void;
  querySelector(selector: string): SimNode | undefined;
  dom: DomNode;
}
interface Simulate {
  load(path: string, options?: { rootPath?: string }): string;
  render(id: string, properties?: Record<string, unknown>): SimComponent;
  sleep(ms: number): Promise<void>;
}

const simulate = createRequire(import.meta.url)('miniprogram-simulate') as Simulate;
const USER = { id: 'u1', nickname: '小明', createdAt: '2026-01-01T00:00:00.000Z' };

let root = '';
const calls: { method: string; args: unknown[] }[] = [];
let rendered: SimComponent[] = [];

/** The app as pages see it through getApp(): services that record what they are asked. */
function fakeApp(
  answers: {
    phone?: () => Promise<unknown>;
    welcomeReward?: () => Promise<unknown>;
    me?: () => Promise<unknown>;
    /** The backend's sessions capability (false: the cloud functions). */
    sessions?: boolean;
  } = {},
) {
  const record =
    (method: string, answer: () => Promise<unknown>) =>
    (...args: unknown[]) => {
      calls.push({ method, args });
      return answer();
    };
  const app = {
    globalData: {},
    privacy: new PrivacyGate(),
    auth: {
      request: (route: string, body: unknown) => {
        calls.push({ method: `request:${route}`, args: [body] });
        if (route === 'phone' && answers.phone) return answers.phone();
        if (route === 'me' && answers.me) return answers.me();
        if (route === 'welcomeReward')
          return answers.welcomeReward
            ? answers.welcomeReward()
            : Promise.resolve({ granted: true, grantedAt: '2026-11-22T08:00:00.000Z' });
        return Promise.resolve({
          user: { ...USER, phone: { purePhoneNumber: '13800138000', countryCode: '86' } },
        });
      },
      capabilities: { sessions: answers.sessions ?? true, sessionKey: answers.sessions ?? true },
      uploadAvatar: record('uploadAvatar', () =>
        Promise.resolve('http://127.0.0.1:3000/avatars/AAAAAAAAAAAAAAAAAAAAAA'),
      ),
      logout: record('logout', () => Promise.resolve()),
      login: record('login', () => Promise.resolve()),
      prepareForEncryptedData: record('prepareForEncryptedData', () => Promise.resolve()),
      recoverFromStaleKey: record('recoverFromStaleKey', () => Promise.resolve()),
    },
  };
  (globalThis as unknown as { getApp: () => unknown }).getApp = () => app;
  return app;
}

/** A ClientError of the simulated build itself (its pages check errors with instanceof). */
function builtClientError(code: string, message: string): Error {
  const { ClientError } = createRequire(import.meta.url)(join(root, 'services', 'errors.js')) as {
    ClientError: new (code: string, message: string) => Error;
  };
  return new ClientError(code, message);
}

function render(path: string, properties?: Record<string, unknown>): SimComponent {
  const component = simulate.render(
    simulate.load(join(root, path), { rootPath: root }),
    properties,
  );
  component.attach(testDocument().createElement('parent-wrapper'));
  rendered.push(component);
  return component;
}

function text(component: SimComponent): string {
  return component.dom.textContent?.replace(/\s+/g, ' ') ?? '';
}

beforeAll(async () => {
  root = await buildForSimulate();
  (globalThis as unknown as { wx: unknown }).wx = {
    navigateTo: () => Promise.resolve(),
    // The privacy APIs the popup uses, as WeChat answers them for a published guide.
    getPrivacySetting: (option: { success?: (res: Record<string, unknown>) => void }) =>
      option.success?.({
        needAuthorization: true,
        privacyContractName: '《示例小程序隐私保护指引》',
        errMsg: 'getPrivacySetting:ok',
      }),
    openPrivacyContract: (option: unknown) => {
      calls.push({ method: 'wx.openPrivacyContract', args: [option] });
    },
  };
}, 60_000);

afterEach(() => {
  for (const component of rendered) component.detach();
  rendered = [];
  calls.length = 0;
});

describe('user-card', () => {
  it('shows the nickname and the masked phone', async () => {
    fakeApp();
    const card = render('components/user-card/user-card', {
      user: { ...USER, phone: { purePhoneNumber: '13912345678', countryCode: '86' } },
    });
    await simulate.sleep(0);
    expect(text(card)).toContain('小明');
    expect(text(card)).toContain('139****5678');
    expect(text(card)).not.toContain('13912345678');
  });

  it('says so when no phone is bound', async () => {
    fakeApp();
    const card = render('components/user-card/user-card', { user: USER });
    await simulate.sleep(0);
    expect(text(card)).toContain('未绑定手机号');
  });
});

describe('user-card avatar', () => {
  it('shows the placeholder when the avatar does not load (not yet passed by WeChat)', async () => {
    fakeApp();
    const card = render('components/user-card/user-card', {
      user: { ...USER, avatarUrl: 'http://127.0.0.1:3000/avatars/AAAAAAAAAAAAAAAAAAAAAA' },
    });
    await simulate.sleep(0);
    expect(card.querySelector('#avatar')).toBeDefined();
    expect(card.querySelector('#avatar-placeholder')).toBeUndefined();
    card.querySelector('#avatar')?.dispatchEvent('error');
    await simulate.sleep(0);
    expect(card.querySelector('#avatar')).toBeUndefined();
    expect(card.querySelector('#avatar-placeholder')).toBeDefined();
  });
});

describe('账号与安全', () => {
  it('lists the devices and offers to cancel a pending deletion', async () => {
    const app = fakeApp({
      me: () =>
        Promise.resolve({
          user: {
            ...USER,
            deletion: {
              requestedAt: '2026-11-20T08:00:00.000Z',
              deleteAt: '2026-11-27T08:00:00.000Z',
            },
          },
        }),
    });
    const request = app.auth.request;
    app.auth.request = (route: string, body: unknown) =>
      route === 'sessions'
        ? Promise.resolve({
            sessions: [
              {
                id: 's1',
                appid: 'wx1',
                createdAt: USER.createdAt,
                lastSeenAt: USER.createdAt,
                current: true,
              },
              {
                id: 's2',
                appid: 'wx1',
                createdAt: USER.createdAt,
                lastSeenAt: USER.createdAt,
                current: false,
              },
            ],
          })
        : request(route, body);
    const page = render('pages/account/account');
    await (page.instance.refresh as () => Promise<void>)();
    await simulate.sleep(0);
    expect(text(page)).toContain('本机');
    expect(text(page)).toContain('其他设备');
    expect(text(page)).toContain('2026-11-27');
    expect(page.querySelector('#cancel-deletion')).toBeDefined();
    // While a deletion is pending, there is nothing more to delete.
    expect(page.querySelector('#delete-account')).toBeUndefined();
    expect(page.querySelector('#sign-out-others')).toBeDefined();
    expect(page.querySelector('#export')).toBeDefined();
  });

  it('account over the cloud functions: no device list, the rest as usual', async () => {
    fakeApp({
      sessions: false,
      me: () =>
        Promise.resolve({
          user: {
            ...USER,
            deletion: { requestedAt: USER.createdAt, deleteAt: '2026-11-27T00:00:00.000Z' },
          },
        }),
    });
    const page = render('pages/account/account');
    await (page.instance.refresh as () => Promise<void>)();
    await simulate.sleep(0);
    expect(calls.map((c) => c.method)).not.toContain('request:sessions');
    expect((page.instance.data as unknown as { error: string }).error).toBe('');
    expect(page.querySelector('#cancel-deletion')).toBeDefined();
    expect(page.querySelector('#sign-out-others')).toBeUndefined();
    expect(page.querySelector('#export')).toBeDefined();
  });
});

describe('privacy-popup', () => {
  it('appears when WeChat asks, reports exposure, and agrees with the button id', async () => {
    const app = fakeApp();
    const popup = render('components/privacy-popup/privacy-popup');
    expect(popup.querySelector('#agree-privacy')).toBeUndefined();
    const answers: unknown[] = [];
    app.privacy.request((answer) => answers.push(answer));
    await simulate.sleep(0);
    const agree = popup.querySelector('#agree-privacy');
    expect(agree).toBeDefined();
    agree?.dispatchEvent('agreeprivacyauthorization');
    await simulate.sleep(0);
    expect(answers).toEqual([
      { event: 'exposureAuthorization' },
      { event: 'agree', buttonId: 'agree-privacy' },
    ]);
    expect(popup.querySelector('#agree-privacy')).toBeUndefined();
  });

  it('names the guide as wx.getPrivacySetting does and opens it with wx.openPrivacyContract', async () => {
    const app = fakeApp();
    const popup = render('components/privacy-popup/privacy-popup');
    app.privacy.request(() => undefined);
    await simulate.sleep(0);
    expect(text(popup)).toContain('《示例小程序隐私保护指引》');
    popup.querySelector('#open-contract')?.dispatchEvent('tap');
    await simulate.sleep(0);
    expect(calls.map((c) => c.method)).toContain('wx.openPrivacyContract');
  });

  it('settles every request: a second one with the first, none left open without a popup', async () => {
    const app = fakeApp();
    const first: unknown[] = [];
    const second: unknown[] = [];
    // No popup on screen: the user cannot be asked, so the request is declined at once.
    const lonely: unknown[] = [];
    app.privacy.request((answer) => lonely.push(answer));
    expect(lonely).toEqual([{ event: 'disagree' }]);

    const popup = render('components/privacy-popup/privacy-popup');
    app.privacy.request((answer) => first.push(answer));
    app.privacy.request((answer) => second.push(answer));
    await simulate.sleep(0);
    popup.querySelector('#agree-privacy')?.dispatchEvent('agreeprivacyauthorization');
    await simulate.sleep(0);
    for (const answers of [first, second]) {
      expect(answers).toEqual([
        { event: 'exposureAuthorization' },
        { event: 'agree', buttonId: 'agree-privacy' },
      ]);
    }

    // The page (and its popup) goes away while a request is open: it is declined, not left.
    const third: unknown[] = [];
    app.privacy.request((answer) => third.push(answer));
    popup.detach();
    rendered = rendered.filter((c) => c !== popup);
    expect(third).toEqual([{ event: 'exposureAuthorization' }, { event: 'disagree' }]);
  });
});

describe('pages', () => {
  it('home shows the user card after onShow and logs out on tap', async () => {
    fakeApp();
    const home = render('pages/index/index');
    home.instance.onShow?.();
    await simulate.sleep(10);
    expect(text(home)).toContain('小明');
    expect(text(home)).toContain('138****8000');
    expect(text(home)).toContain('新人礼包已发放');
    home.querySelector('#logout')?.dispatchEvent('tap');
    await simulate.sleep(10);
    expect(calls.map((c) => c.method)).toEqual(['request:me', 'request:welcomeReward', 'logout']);
    expect(text(home)).toContain('未登录');
    expect(text(home)).not.toContain('新人礼包');
  });

  it('home says the network is down when offline, and a later success clears it', async () => {
    let online = false;
    const app = fakeApp({
      me: () =>
        online
          ? Promise.resolve({ user: USER })
          : Promise.reject(builtClientError('login_failed', 'login:fail network error')),
    });
    (app.globalData as { loginError?: string }).loginError = '服务暂时不可用，请稍后再试';
    const home = render('pages/index/index');
    home.instance.onShow?.();
    await simulate.sleep(10);
    expect(text(home)).toContain('网络不可用');
    expect(text(home)).not.toContain('服务暂时不可用');
    online = true;
    home.instance.onShow?.();
    await simulate.sleep(10);
    expect(text(home)).toContain('小明');
    expect(text(home)).not.toContain('网络不可用');
    expect((app.globalData as { loginError?: string }).loginError).toBeUndefined();
  });

  it('home says when the welcome gift was granted, and shows nothing if the claim fails', async () => {
    fakeApp({
      welcomeReward: () => Promise.resolve({ granted: false, grantedAt: '2026-03-04T10:00:00Z' }),
    });
    const home = render('pages/index/index');
    home.instance.onShow?.();
    await simulate.sleep(10);
    expect(home.querySelector('#welcome-gift')).toBeDefined();
    expect(text(home)).toMatch(/你已于 2026-03-0[45] 领取新人礼包/);

    fakeApp({ welcomeReward: () => Promise.reject(new Error('offline')) });
    const failing = render('pages/index/index');
    failing.instance.onShow?.();
    await simulate.sleep(10);
    expect(text(failing)).toContain('小明');
    expect(failing.querySelector('#welcome-gift')).toBeUndefined();
  });

  it('profile uploads the chosen avatar, then saves it with the nickname', async () => {
    fakeApp();
    const profile = render('pages/profile/profile');
    profile
      .querySelector('#choose-avatar')
      ?.dispatchEvent('chooseavatar', { detail: { avatarUrl: 'wxfile://tmp/avatar.png' } });
    profile.querySelector('#nickname')?.dispatchEvent('input', { detail: { value: '新昵称' } });
    await simulate.sleep(0);
    // Saving is the form's submit: WeChat hands over the named fields' values.
    profile
      .querySelector('#profile-form')
      ?.dispatchEvent('submit', { detail: { value: { nickname: '新昵称' } } });
    await simulate.sleep(10);
    expect(calls).toEqual([
      { method: 'uploadAvatar', args: ['wxfile://tmp/avatar.png'] },
      {
        method: 'request:userinfo',
        args: [
          { nickname: '新昵称', avatarUrl: 'http://127.0.0.1:3000/avatars/AAAAAAAAAAAAAAAAAAAAAA' },
        ],
      },
    ]);
    expect(text(profile)).toContain('已保存');
    expect(text(profile)).not.toContain('审核');
  });

  it('profile shows its owner a cloud avatar awaiting WeChat’s image check, and says so', async () => {
    const pending = 'cloud://env-1.7465-env-1-1250000000/avatars/new.png';
    fakeApp({ me: () => Promise.resolve({ user: { ...USER, avatarPending: pending } }) });
    const profile = render('pages/profile/profile');
    profile.instance.onShow?.();
    await simulate.sleep(10);
    expect(profile.querySelector('.placeholder')).toBeUndefined();
    expect((profile.instance.data as { avatarUrl?: string }).avatarUrl).toBe(pending);
    expect(text(profile)).toContain('新头像审核通过后他人可见');
  });

  it('profile never saves a nickname WeChat refused, and keeps the legacy button off', async () => {
    fakeApp();
    const profile = render('pages/profile/profile');
    expect(profile.querySelector('#legacy-userinfo')).toBeUndefined();
    const input = profile.querySelector('#nickname');
    input?.dispatchEvent('input', { detail: { value: '违规昵称' } });
    input?.dispatchEvent('nicknamereview', { detail: { pass: false, timeout: false } });
    await simulate.sleep(0);
    expect(text(profile)).toContain('未通过微信安全检测');
    // Even if a stale value reached the submit, the refused nickname is not sent.
    profile
      .querySelector('#profile-form')
      ?.dispatchEvent('submit', { detail: { value: { nickname: '违规昵称' } } });
    await simulate.sleep(10);
    expect(calls).toEqual([]);
    expect(text(profile)).toContain('请选择头像或填写昵称');
  });

  it('phone sends the button code once, and explains a refusal without calling the server', async () => {
    fakeApp();
    const phone = render('pages/phone/phone');
    const button = () => phone.querySelector('#bind-phone');
    button()?.dispatchEvent('getphonenumber', {
      detail: { errMsg: 'getPhoneNumber:fail no permission', errno: 112 },
    });
    await simulate.sleep(0);
    expect(text(phone)).toContain('隐私协议');
    button()?.dispatchEvent('getphonenumber', {
      detail: { errMsg: 'getPhoneNumber:fail privacy permission is not authorized', errno: 104 },
    });
    await simulate.sleep(0);
    expect(text(phone)).toContain('用户隐私保护指引');
    button()?.dispatchEvent('getphonenumber', {
      detail: { errMsg: 'getPhoneNumber:fail quota', errno: 1400001 },
    });
    await simulate.sleep(0);
    expect(text(phone)).toContain('次数已达上限');
    expect(calls).toEqual([]);
    button()?.dispatchEvent('getphonenumber', {
      detail: { errMsg: 'getPhoneNumber:ok', code: 'phone-code-1' },
    });
    await simulate.sleep(10);
    expect(calls).toEqual([{ method: 'request:phone', args: [{ code: 'phone-code-1' }] }]);
    expect(text(phone)).toContain('138****8000');
    // Bound: the billed button is gone until the user asks to change the number.
    expect(button()).toBeUndefined();
    phone.querySelector('#change-phone')?.dispatchEvent('tap');
    await simulate.sleep(0);
    expect(text(phone)).toContain('使用新的微信手机号');
    expect(button()).toBeDefined();
  });

  it('phone never throws a code away: one arriving during an exchange is sent after it', async () => {
    let release: () => void = () => undefined;
    fakeApp({
      phone: () =>
        new Promise((resolve) => {
          release = () =>
            resolve({
              user: { ...USER, phone: { purePhoneNumber: '13800138000', countryCode: '86' } },
            });
        }),
    });
    const phone = render('pages/phone/phone');
    const tap = (code: string) =>
      phone.querySelector('#bind-phone')?.dispatchEvent('getphonenumber', {
        detail: { errMsg: 'getPhoneNumber:ok', code },
      });
    tap('phone-code-a');
    await simulate.sleep(0);
    tap('phone-code-b'); // while the first is in flight
    await simulate.sleep(0);
    expect(calls.map((c) => c.args[0])).toEqual([{ code: 'phone-code-a' }]);
    release();
    await simulate.sleep(10);
    release();
    await simulate.sleep(10);
    expect(calls.map((c) => c.args[0])).toEqual([
      { code: 'phone-code-a' },
      { code: 'phone-code-b' },
    ]);
  });
});
