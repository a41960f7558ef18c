/**
 * The compiled app in Node: miniprogram/ is compiled by tsc (as DevTools' TypeScript plugin
 * would), App/Component/getApp are provided the way the runtime provides them, `wx` is a stand-in
 * whose wx.login mints a code from the emulator and whose wx.request/uploadFile make real HTTP
 * calls to the real server. onLaunch and the pages' handlers run; then the server's view is read.
 */
import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type EmulatorProcess, startEmulatorProcess } from '@wxlogin/wechat-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './server-process.js';
import { WxStandin, realHttp } from './wx-standin.js';

const APP = { appid: 'wx0000000000mpapp0', secret: 'miniprogram-app-test-secret' };
const OPENID = 'oMiniprogramCompiledApp00001';
const here = fileURLToPath(new URL('.', import.meta.url));
const projectRoot = join(here, '..');
const TSC = createRequire(join(projectRoot, 'package.json')).resolve('typescript/bin/tsc');

type Definition = {
  data?: Record<string, unknown>;
  methods?: Record<string, (...args: unknown[]) => unknown>;
};
type Instance = {
  data: Record<string, unknown>;
  setData(patch: Record<string, unknown>): void;
} & Record<string, unknown>;

let emulator: EmulatorProcess | undefined;
let stopServer: (() => Promise<void>) | undefined;
let serverUrl = '';
let work = '';
let workDir: TempDir | undefined;
let wx: WxStandin;
let app: Record<string, unknown> & { onLaunch(): void };
const definitions = new Map<string, Definition>();

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [command, ...args], {
      cwd: projectRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited ${code}`)),
    );
  });
}

/** What the runtime does with a Component() definition used as a page: data + bound methods. */
function instantiate(name: string): Instance {
  const definition = definitions.get(name);
  if (!definition) throw new Error(`no Component() registered by ${name}`);
  const instance: Instance = {
    data: structuredClone(definition.data ?? {}),
    setData(patch) {
      Object.assign(this.data, patch);
    },
  };
  for (const [key, method] of Object.entries(definition.methods ?? {}))
    instance[key] = method.bind(instance);
  return instance;
}

async function load(name: string): Promise<void> {
  const g = globalThis as unknown as { Component: (d: Definition) => void };
  g.Component = (definition) => definitions.set(name, definition);
  await import(pathToFileURL(join(work, 'out', `${name}.js`)).href);
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  emulator = await startEmulatorProcess({ apps: [APP] });
  workDir = await tempDir('mpapp');
  work = workDir.path;
  const server = await startServer({
    app: APP,
    emulatorUrl: emulator.url,
    dataDir: join(work, 'data'),
  });
  serverUrl = server.url;
  stopServer = () => server.stop();

  // Compile the mini-program as DevTools would, then point its one config module at our server.
  await run(TSC, ['-p', 'tsconfig.app.json', '--outDir', join(work, 'out')]);
  await writeFile(join(work, 'out', 'package.json'), '{ "type": "module" }\n');
  await writeFile(
    join(work, 'out', 'config.js'),
    `export const transportConfig = { kind: 'http', baseUrl: ${JSON.stringify(serverUrl)} };\n`,
  );

  const control = emulator.control;
  wx = new WxStandin(
    realHttp,
    async () => (await control.mintLoginCode({ appid: APP.appid, openid: OPENID })).code,
  );
  wx.appid = APP.appid;
  const g = globalThis as unknown as Record<string, unknown>;
  g.wx = wx;
  g.App = (definition: typeof app) => {
    app = definition;
  };
  g.getApp = () => app;
  await import(pathToFileURL(join(work, 'out', 'app.js')).href);
  for (const page of [
    'pages/index/index',
    'pages/profile/profile',
    'pages/phone/phone',
    'pages/account/account',
  ])
    await load(page);
}, 60_000);

afterAll(async () => {
  await stopServer?.();
  await emulator?.stop();
  await workDir?.remove();
});

describe('the compiled mini-program', () => {
  it('logs in at launch, then the pages save avatar, nickname and phone on the server', async () => {
    app.onLaunch();
    await until(() => wx.storage.has('wxlogin.session'), 'the launch login');
    expect(wx.loginCalls).toBe(1);
    expect(typeof wx.privacyListener).toBe('function');

    const home = instantiate('pages/index/index');
    await (home.refresh as () => Promise<void>)();
    expect(home.data).toMatchObject({ loading: false, error: '' });
    expect((home.data.user as { id: string }).id).toBeTruthy();
    // The welcome gift: granted on the first show, "already, on <date>" on the next one.
    await until(() => home.data.gift !== '', 'the welcome gift');
    expect(home.data.gift).toContain('新人礼包已发放');
    await (home.refresh as () => Promise<void>)();
    await until(() => String(home.data.gift).includes('你已于'), 'the gift granted before');
    // Every request said which mini-program it came from.
    expect(new Set(wx.requests.map((r) => r.appid))).toEqual(new Set([APP.appid]));

    const avatarFile = join(work, 'wxfile-tmp-chosen.png');
    await writeFile(
      avatarFile,
      Buffer.from(
        // A real 1×1 PNG: the server decodes and re-encodes every avatar.
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
        'base64',
      ),
    );
    const profile = instantiate('pages/profile/profile');
    (profile.onChooseAvatar as (e: unknown) => void)({ detail: { avatarUrl: avatarFile } });
    (profile.onNicknameInput as (e: unknown) => void)({ detail: { value: ' 编译后的小程序 ' } });
    await (profile.onSave as () => Promise<void>)();
    expect(profile.data).toMatchObject({
      message: '已保存',
      error: '',
      nickname: '编译后的小程序',
      pendingAvatar: '',
    });

    const phonePage = instantiate('pages/phone/phone');
    (phonePage.onGetPhoneNumber as (e: unknown) => void)({
      detail: { errMsg: 'getPhoneNumber:fail no permission', errno: 1400001 },
    });
    expect(phonePage.data.message).toContain('上限');
    const { codes } = await emulator!.control.mintPhoneCodes({
      appid: APP.appid,
      purePhoneNumber: '13344445555',
    });
    await (phonePage.onGetPhoneNumber as (e: unknown) => Promise<void>)({
      detail: { errMsg: 'getPhoneNumber:ok', code: codes[0] },
    });
    expect(phonePage.data).toMatchObject({ phone: '133****5555', message: '已绑定', busy: false });

    // The server holds all of it for the token in storage.
    const { token } = wx.storage.get('wxlogin.session') as { token: string };
    const me = (await (
      await fetch(`${serverUrl}/me`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      user: { nickname: string; avatarUrl: string; phone: { purePhoneNumber: string } };
    };
    expect(me.user.nickname).toBe('编译后的小程序');
    expect(me.user.avatarUrl).toMatch(/\/avatars\/[\w-]{22}$/);
    expect(me.user.phone.purePhoneNumber).toBe('13344445555');

    // Log out from the home page: storage is cleared and the old token is dead.
    await (home.onLogout as () => Promise<void>)();
    expect(wx.storage.has('wxlogin.session')).toBe(false);
    expect(
      (await fetch(`${serverUrl}/me`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401);
  });

  it('账号与安全: devices, sign out the others, copy the data, delete twice-confirmed, cancel', async () => {
    const home = instantiate('pages/index/index');
    await (home.refresh as () => Promise<void>)();
    const userId = (home.data.user as { id: string }).id;
    // A second device of the same WeChat user.
    const minted = await emulator!.control.mintLoginCode({ appid: APP.appid, openid: OPENID });
    const other = (await (
      await fetch(`${serverUrl}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-wechat-appid': APP.appid },
        body: JSON.stringify({ code: minted.code }),
      })
    ).json()) as { token: string };
    const otherMe = () =>
      fetch(`${serverUrl}/me`, {
        headers: { authorization: `Bearer ${other.token}`, 'x-wechat-appid': APP.appid },
      });
    expect((await otherMe()).status).toBe(200);

    const account = instantiate('pages/account/account');
    await (account.refresh as () => Promise<void>)();
    const devices = account.data.devices as { current: boolean; seen: string }[];
    expect(devices.length).toBeGreaterThanOrEqual(2);
    expect(devices.filter((d) => d.current)).toHaveLength(1);
    expect(devices[0]?.seen).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    await (account.onSignOutOthers as () => Promise<void>)();
    expect(account.data.message).toMatch(/^已退出 \d+ 台其他设备$/);
    expect((await otherMe()).status).toBe(401);
    expect(account.data.devices).toHaveLength(1);

    // The user agrees to the privacy guide: the agreement reaches the server with its version.
    (app as unknown as { privacy: { agree(id: string): void } }).privacy.agree('agree-privacy');
    await until(() => !wx.storage.has('wxlogin.consent.pending'), 'the consent report');
    await (account.onExport as () => Promise<void>)();
    expect(account.data.message).toBe('已复制到剪贴板');
    const copied = JSON.parse(wx.clipboard) as { user: { id: string }; identities: unknown[] };
    expect(copied.user.id).toBe(userId);
    expect(copied.identities).toHaveLength(1);
    expect((copied as unknown as { consents: unknown[] }).consents).toEqual([
      expect.objectContaining({
        kind: 'privacy',
        version: '2026-11-01',
        appid: APP.appid,
      }) as unknown,
    ]);
    expect(account.data.exportSummary).toContain('1 个微信身份');

    // Declined at the second question: nothing happens.
    wx.modalAnswers.push(true, false);
    await (account.onDeleteAccount as () => Promise<void>)();
    expect(wx.modals.map((m) => m.title)).toEqual(['注销账号', '再次确认']);
    expect(account.data.deletion).toBeNull();
    wx.modalAnswers.push(true, true);
    await (account.onDeleteAccount as () => Promise<void>)();
    expect(account.data.deletion).toMatchObject({ deleteAt: expect.any(String) as unknown });
    expect(account.data.message).toMatch(/^账号将于 \d{4}-\d{2}-\d{2} 注销$/);

    // Back home: the old token is gone, the app logs in again and offers to cancel.
    await (home.refresh as () => Promise<void>)();
    expect(home.data.deleteAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect((home.data.user as { id: string }).id).toBe(userId);
    await (home.onCancelDeletion as () => Promise<void>)();
    expect(home.data.deleteAt).toBe('');
    expect(home.data.error).toBe('');
  });
});
