/**
 * Store outage: the embedded store cannot be written under a running server, because another
 * process holds SQLite's write lock past the busy timeout (a stuck or crashed-while-writing
 * sharer, as `SQLITE_BUSY` says). Logins answer store_unavailable and issue no token; once the
 * lock is released, the same process serves again without a restart, and nothing from the outage
 * survives half-written. (Tests run as root, so a read-only folder cannot be simulated here.)
 */
import { join } from 'node:path';
import { SQLITE_FILE } from '@wxlogin/wechat-core/sqlite';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { readEmbeddedCollection, storeCounts } from '../support/processes.js';
import { useStack } from '../support/stack.js';

const stack = useStack();

describe('store outage', { timeout: 30_000 }, () => {
  it('answers store_unavailable without a token, then recovers without a restart', async () => {
    const { server, dataDir } = await stack.extraServer({ SQLITE_BUSY_TIMEOUT_MS: '200' });
    const first = await stack.loginOn(server.url);
    expect(first.status).toBe(200);
    const before = await storeCounts(dataDir);

    const holder = new Database(join(dataDir, SQLITE_FILE));
    holder.exec('BEGIN IMMEDIATE');
    const during = await Promise.all([
      stack.loginOn(server.url),
      stack.loginOn(server.url),
      stack.loginOn(server.url),
    ]);
    for (const answer of during) {
      expect(answer.status).toBe(503);
      expect(answer.body.error?.code).toBe('store_unavailable');
      expect(answer.body.token).toBeUndefined();
    }
    const update = await fetch(`${server.url}/userinfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${first.body.token}` },
      body: JSON.stringify({ nickname: '写不进去' }),
    });
    expect(update.status).toBe(503);

    holder.exec('ROLLBACK');
    holder.close();
    const after = await stack.loginOn(server.url);
    expect(after.status).toBe(200);
    const me = await fetch(`${server.url}/me`, {
      headers: { authorization: `Bearer ${first.body.token}` },
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { nickname?: string } }).user.nickname).toBeUndefined();

    // Exactly the two successful logins are stored; nothing from the outage.
    expect(await storeCounts(dataDir)).toEqual({
      users: before.users + 1,
      identities: before.identities + 1,
      sessions: before.sessions + 1,
    });
    const openids = (await readEmbeddedCollection(dataDir, 'identities')).map((doc) => doc.openid);
    for (const failed of during) expect(openids).not.toContain(failed.openid);
    await server.stop();
  });
});
