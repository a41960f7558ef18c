/**
 * The OAuth state's HMAC key when OAUTH_STATE_SECRET is not set: 256 random bits generated on
 * first start and kept in DATA_DIR/oauth-state.key (mode 0600), so states survive a restart.
 * Several server instances must share one key: set OAUTH_STATE_SECRET for them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STATE_SECRET_FILE = 'oauth-state.key';

export async function loadOrCreateStateSecret(
  dataDir: string,
): Promise<{ secret: string; created: boolean }> {
  const file = join(dataDir, STATE_SECRET_FILE);
  const read = async () => (await readFile(file, 'utf8')).trim();
  try {
    const secret = await read();
    if (secret.length < 32) throw new Error(`${file} holds fewer than 32 characters`);
    return { secret, created: false };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  try {
    // 'wx': never overwrite a key another process wrote meanwhile; use that one instead.
    await writeFile(file, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return { secret, created: true };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    return { secret: await read(), created: false };
  }
}
