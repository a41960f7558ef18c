/**
 * Loads a built cloud function (the folder DevTools would upload) into a temporary directory with
 * the wx-server-sdk stand-in as its node_modules/wx-server-sdk, and sets the invocation's context
 * the way the cloud runtime does: WX_CONTEXT_KEYS and the WX_* variables.
 */
import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { cp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EmulatorProcess, startEmulatorProcess } from '@wxlogin/wechat-emulator';
import { afterAll, beforeAll } from 'vitest';
import { cloudfunctionRoot } from '../../cloudfunction-root.mjs';

export const APP = { appid: 'wx00000000000cloud', secret: 'cloud-test-secret' } as const;

export type CloudMain = (event: unknown, context: unknown) => Promise<Record<string, unknown>>;

/** The stand-in's test controls for its cloud database (see wx-server-sdk/database.js). */
export interface StandinDatabase {
  reset(): void;
  dump(name: string, options?: { env?: string }): Record<string, unknown>[] | undefined;
  injectFailures(options?: {
    count?: number;
    kind?: 'timeout' | 'network' | 'http' | 'server';
    applied?: boolean;
  }): void;
  clearFailures(): void;
}

export const CLOUD_ENV = 'test-env-1a2b3c';

export interface CloudHarness {
  emulator: EmulatorProcess;
  /** The cloud database every loaded function shares (one per process, as in one env). */
  database: StandinDatabase;
  /**
   * The built function, as uploaded; `config` replaces its config.json (a deployment whose
   * declared permissions differ).
   */
  load(
    name: 'login' | 'userinfo' | 'phone' | 'rewards' | 'account' | 'mediacheck',
    options?: { config?: Record<string, unknown> },
  ): Promise<CloudMain>;
  /** The user opens the mini-program (wx.login): WeChat's content checks need a visit in 2 h. */
  visit(openid: string): Promise<void>;
  /** Cloud storage files deleted so far (cloud.deleteFile). */
  deletedFiles(): string[];
  /** What wx.cloud.uploadFile does: the file is in the environment's storage under this ID. */
  putFile(fileID: string, bytes?: Uint8Array): void;
  /** Whether a file is (still) in cloud storage. */
  hasFile(fileID: string): boolean;
  /**
   * Does what the cloud does with a wxa_media_check routed to a function (云开发 消息推送): hands
   * each image check WeChat judged since the last call to `mediacheck`, as its event, with no
   * user calling. Answers what the function returned, in order.
   */
  routeMediaChecks(mediacheck: CloudMain): Promise<unknown[]>;
}

/** A file ID in the user's own avatar folder, as the mini-program's uploadAvatar names them. */
export function cloudAvatarFile(userId: string, name: string): string {
  return `cloud://${CLOUD_ENV}.7465-${CLOUD_ENV}-1250000000/avatars/${userId}/${name}`;
}

/** A tiny PNG: the bytes WeChat's image check downloads. */
export const PNG_BYTES = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52,
]);

interface StandinFiles {
  put(fileID: string, bytes: Uint8Array, contentType?: string): void;
  has(fileID: string): boolean;
  deleted(): string[];
}

/** The stand-in's test controls (its database and storage state is shared by every copy). */
function standin(): { database: StandinDatabase; files: StandinFiles } {
  const sdk = fileURLToPath(new URL('./wx-server-sdk/index.js', import.meta.url));
  return (
    createRequire(sdk)(sdk) as {
      __standin: { database: StandinDatabase; files: StandinFiles };
    }
  ).__standin;
}

/** What the runtime sets for one invocation by this user. */
export function setCaller(
  caller: { openid: string; appid?: string; unionid?: string } | undefined,
): void {
  for (const key of [
    'WX_CONTEXT_KEYS',
    'WX_OPENID',
    'WX_APPID',
    'WX_UNIONID',
    'WX_CLIENTIP',
    'TCB_ENV',
    'TCB_SOURCE',
  ])
    delete process.env[key];
  process.env.TCB_ENV = CLOUD_ENV;
  if (!caller) return;
  process.env.WX_CONTEXT_KEYS = 'WX_OPENID,WX_APPID,WX_UNIONID,WX_CLIENTIP,WX_API_TOKEN';
  process.env.WX_OPENID = caller.openid;
  process.env.WX_APPID = caller.appid ?? APP.appid;
  if (caller.unionid) process.env.WX_UNIONID = caller.unionid;
  process.env.WX_CLIENTIP = '10.0.0.1';
  // A call from the mini-program (getWXContext().SOURCE).
  process.env.TCB_SOURCE = 'wx_client';
}

export function useCloudHarness(): CloudHarness {
  const state: {
    emulator?: EmulatorProcess;
    work?: TempDir;
    routed: Set<string>;
    /** Functions deployed as built, by name: node caches the module of a path anyway. */
    deployed: Map<string, Promise<CloudMain>>;
    loads: number;
  } = {
    routed: new Set(),
    deployed: new Map(),
    loads: 0,
  };
  beforeAll(async () => {
    state.emulator = await startEmulatorProcess({ apps: [APP] });
    state.work = await tempDir('cloud');
    process.env.WXSTANDIN_API_ORIGIN = state.emulator.url;
    process.env.WXSTANDIN_APPID = APP.appid;
    process.env.WXSTANDIN_SECRET = APP.secret;
    delete process.env.MONGODB_URL;
  });
  afterAll(async () => {
    await state.emulator?.stop();
    await state.work?.remove();
  });
  /** Copies a built function and the stand-in SDK into a folder of its own, and loads it. */
  async function deploy(folder: string, name: string, config?: object): Promise<CloudMain> {
    if (!state.work) throw new Error('harness not started');
    const dir = join(state.work.path, folder);
    await cp(join(await cloudfunctionRoot(), name), dir, { recursive: true });
    if (config) await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const sdk = fileURLToPath(new URL('./wx-server-sdk', import.meta.url));
    await cp(sdk, join(dir, 'node_modules', 'wx-server-sdk'), { recursive: true });
    const loaded = createRequire(join(dir, 'index.js'))(join(dir, 'index.js')) as {
      main?: CloudMain;
    };
    if (typeof loaded.main !== 'function') throw new Error(`${name}/index.js exports no main`);
    return loaded.main;
  }
  return {
    get emulator() {
      if (!state.emulator) throw new Error('emulator not started');
      return state.emulator;
    },
    get database() {
      return standin().database;
    },
    async visit(openid) {
      if (!state.emulator) throw new Error('emulator not started');
      await state.emulator.control.mintLoginCode({ appid: APP.appid, openid });
    },
    deletedFiles: () => standin().files.deleted(),
    putFile: (fileID, bytes = PNG_BYTES) => standin().files.put(fileID, bytes),
    hasFile: (fileID) => standin().files.has(fileID),
    async routeMediaChecks(mediacheck) {
      if (!state.emulator) throw new Error('emulator not started');
      const { checks } = await state.emulator.control.mediaChecks();
      const answers: unknown[] = [];
      for (const check of checks) {
        if (!check.event || state.routed.has(check.traceId)) continue;
        state.routed.add(check.traceId);
        setCaller(undefined);
        answers.push(await mediacheck(check.event, {}));
      }
      return answers;
    },
    load(name, options) {
      if (options?.config) {
        state.loads += 1;
        return deploy(`${name}-${state.loads}`, name, options.config);
      }
      let deployed = state.deployed.get(name);
      if (!deployed) {
        deployed = deploy(name, name);
        state.deployed.set(name, deployed);
        deployed.catch(() => state.deployed.delete(name));
      }
      return deployed;
    },
  };
}
