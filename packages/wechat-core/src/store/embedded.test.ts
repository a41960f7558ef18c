import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStoreContract } from './contract.js';
import { EmbeddedStore } from './embedded.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wxlogin-embedded-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describeStoreContract('embedded', async () => EmbeddedStore.open({ dataDir: await freshDir() }));

describe('EmbeddedStore', () => {
  it('keeps users across a close and reopen of the same DATA_DIR', async () => {
    const dataDir = await freshDir();
    const first = await EmbeddedStore.open({ dataDir });
    const { user } = await first.users.upsertLogin({
      appid: 'wxa',
      openid: 'o1',
      sessionKey: 'k',
      now: new Date(),
    });
    await first.users.updateProfile(user.id, { nickname: '持久' }, new Date());
    await first.close();
    const second = await EmbeddedStore.open({ dataDir });
    expect((await second.users.findUser(user.id))?.profile.nickname).toBe('持久');
    expect((await second.users.findIdentity('wxa', 'o1'))?.userId).toBe(user.id);
    await second.close();
  });

  it('refuses a second open of the same DATA_DIR while the first is open', async () => {
    const dataDir = await freshDir();
    const first = await EmbeddedStore.open({ dataDir });
    await expect(EmbeddedStore.open({ dataDir })).rejects.toThrow(/in use by another process/);
    await first.close();
    const again = await EmbeddedStore.open({ dataDir });
    await again.close();
  });
});
