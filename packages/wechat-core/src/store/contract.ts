/**
 * The store contract, written once: every driver's test file calls describeStoreContract with a
 * factory that opens a fresh, empty store, and a `destroy` that removes what the suite wrote (a
 * temporary folder, a database). Whatever passes here can back the use-cases.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionManager } from '../auth/sessions.js';
import { createSessionToken } from '../crypto/session-token.js';
import type { Store } from './types.js';

const DAY = 24 * 3600_000;

export interface StoreContractOptions {
  /** Runs once after the suite: removes every store the factory opened. */
  destroy?: () => Promise<void>;
  /**
   * Whether the store keeps avatar images itself (default true). The cloud database does not:
   * avatars go to cloud storage, and saving one through the store is refused.
   */
  avatarFiles?: boolean;
}

export function describeStoreContract(
  name: string,
  openStore: () => Promise<Store>,
  options: StoreContractOptions = {},
): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let seq = 0;
    const openid = () => `openid-${Date.now()}-${(seq += 1)}`;
    // Anchored to the real clock: MongoDB's TTL index and SQLite's sweep delete by the real time.
    const base = Math.floor(Date.now() / 1000) * 1000;
    const at = (ms: number) => new Date(base + ms);

    beforeEach(async () => {
      store = await openStore();
    });
    afterEach(async () => {
      await store.close();
    });
    afterAll(async () => {
      await options.destroy?.();
    });

    describe('users and identities', () => {
      it('upsertLogin creates a user and identity once, then updates the session_key', async () => {
        const id = openid();
        const first = await store.users.upsertLogin({
          appid: 'wxa',
          openid: id,
          sessionKey: 'k1',
          now: at(0),
        });
        expect(first.isNewUser).toBe(true);
        expect(first.identity).toMatchObject({
          appid: 'wxa',
          openid: id,
          userId: first.user.id,
          sessionKey: 'k1',
        });
        const second = await store.users.upsertLogin({
          appid: 'wxa',
          openid: id,
          sessionKey: 'k2',
          now: at(1000),
        });
        expect(second.isNewUser).toBe(false);
        expect(second.user.id).toBe(first.user.id);
        expect((await store.users.findIdentity('wxa', id))?.sessionKey).toBe('k2');
        expect((await store.users.findIdentity('wxa', id))?.sessionKeyAt).toEqual(at(1000));
      });

      it('upsertLogin without a session_key (cloud) keeps the stored one', async () => {
        const id = openid();
        await store.users.upsertLogin({ appid: 'wxa', openid: id, sessionKey: 'k1', now: at(0) });
        await store.users.upsertLogin({ appid: 'wxa', openid: id, now: at(1) });
        expect((await store.users.findIdentity('wxa', id))?.sessionKey).toBe('k1');
      });

      it('50 concurrent first logins for one openid create exactly one user and one identity', async () => {
        const id = openid();
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.users.upsertLogin({ appid: 'wxa', openid: id, sessionKey: `k${i}`, now: at(i) }),
          ),
        );
        expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
        expect(results.filter((r) => r.isNewUser)).toHaveLength(1);
        const docs = await store.exportDocuments();
        expect(docs.users).toHaveLength(1);
        expect(docs.identities).toHaveLength(1);
      });

      it('links a second app to the user that already holds the unionid', async () => {
        const a = await store.users.upsertLogin({
          appid: 'wxa',
          openid: openid(),
          unionid: 'u-1',
          now: at(0),
        });
        const b = await store.users.upsertLogin({
          appid: 'wxb',
          openid: openid(),
          unionid: 'u-1',
          now: at(1),
        });
        expect(b.user.id).toBe(a.user.id);
        expect(b.isNewUser).toBe(false);
        expect(a.user.unionid).toBe('u-1');
      });

      it('concurrent first logins in two apps with one unionid end with one user', async () => {
        const [oa, ob] = [openid(), openid()];
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.users.upsertLogin({
              appid: i % 2 ? 'wxa' : 'wxb',
              openid: i % 2 ? oa : ob,
              unionid: 'u-race',
              now: at(i),
            }),
          ),
        );
        const identityA = await store.users.findIdentity('wxa', oa);
        const identityB = await store.users.findIdentity('wxb', ob);
        expect(identityA?.userId).toBe(identityB?.userId);
        expect((await store.exportDocuments()).users).toHaveLength(1);
        expect(results.filter((r) => r.isNewUser).length).toBeLessThanOrEqual(1);
      });

      it('links a unionid that appears later when no other user holds it', async () => {
        const id = openid();
        const first = await store.users.upsertLogin({ appid: 'wxa', openid: id, now: at(0) });
        expect(first.user.unionid).toBeUndefined();
        const later = await store.users.upsertLogin({
          appid: 'wxa',
          openid: id,
          unionid: 'u-late',
          now: at(1),
        });
        expect(later.user).toMatchObject({ id: first.user.id, unionid: 'u-late' });
        expect(later.unionidConflict).toBeUndefined();
        // From now on the other app's first login joins this user.
        const other = await store.users.upsertLogin({
          appid: 'wxb',
          openid: openid(),
          unionid: 'u-late',
          now: at(2),
        });
        expect(other.user.id).toBe(first.user.id);
      });

      it('keeps two users apart and reports the conflict when the later unionid is taken', async () => {
        const holder = await store.users.upsertLogin({
          appid: 'wxa',
          openid: openid(),
          unionid: 'u-taken',
          now: at(0),
        });
        const loner = openid();
        const separate = await store.users.upsertLogin({ appid: 'wxb', openid: loner, now: at(1) });
        expect(separate.user.id).not.toBe(holder.user.id);
        const later = await store.users.upsertLogin({
          appid: 'wxb',
          openid: loner,
          unionid: 'u-taken',
          now: at(2),
        });
        expect(later.user.id).toBe(separate.user.id);
        expect(later.user.unionid).toBeUndefined();
        expect(later.unionidConflict).toEqual({
          unionid: 'u-taken',
          userId: separate.user.id,
          heldByUserId: holder.user.id,
        });
        const users = (await store.exportDocuments()).users as { unionid?: string }[];
        expect(users.filter((u) => u.unionid === 'u-taken')).toHaveLength(1);
        expect(users).toHaveLength(2);
        // The refused write leaves the store as usable as before: the same kind of update for
        // another user goes through (a driver that reuses a failed statement would not).
        const next = openid();
        await store.users.upsertLogin({ appid: 'wxb', openid: next, now: at(3) });
        const adopted = await store.users.upsertLogin({
          appid: 'wxb',
          openid: next,
          unionid: 'u-free',
          now: at(4),
        });
        expect(adopted.user.unionid).toBe('u-free');
        expect(adopted.unionidConflict).toBeUndefined();
      });

      it('stores OAuth tokens with the identity and replaces them on refresh', async () => {
        const id = openid();
        const tokens = {
          accessToken: 'A1',
          accessTokenExpiresAt: at(7_200_000),
          refreshToken: 'R1',
          refreshTokenExpiresAt: at(30 * DAY),
          scope: 'snsapi_userinfo',
        };
        await store.users.upsertLogin({ appid: 'wxoa', openid: id, oauth: tokens, now: at(0) });
        expect((await store.users.findIdentity('wxoa', id))?.oauth).toEqual(tokens);
        const renewed = { ...tokens, accessToken: 'A2', accessTokenExpiresAt: at(9_000_000) };
        expect(await store.users.saveOAuthTokens('wxoa', id, renewed)).toBe(true);
        expect((await store.users.findIdentity('wxoa', id))?.oauth).toEqual(renewed);
        expect(await store.users.saveOAuthTokens('wxoa', 'nobody', renewed)).toBe(false);
      });

      it('updates profile fields one at a time and sets the phone', async () => {
        const { user } = await store.users.upsertLogin({
          appid: 'wxa',
          openid: openid(),
          now: at(0),
        });
        await store.users.updateProfile(user.id, { nickname: '小明' }, at(1));
        const updated = await store.users.updateProfile(
          user.id,
          { avatarUrl: 'https://x/a.png' },
          at(2),
        );
        expect(updated?.profile).toEqual({ nickname: '小明', avatarUrl: 'https://x/a.png' });
        expect(updated?.updatedAt).toEqual(at(2));
        const phoned = await store.users.setPhone(
          user.id,
          { purePhoneNumber: '13800138000', countryCode: '86', verifiedAt: at(3) },
          at(3),
        );
        expect(phoned?.phone).toEqual({
          purePhoneNumber: '13800138000',
          countryCode: '86',
          verifiedAt: at(3),
        });
        expect(await store.users.findUser(user.id)).toEqual(phoned);
      });

      it('answers null for a user or identity that does not exist', async () => {
        expect(await store.users.findUser('nobody')).toBeNull();
        expect(await store.users.updateProfile('nobody', { nickname: 'x' }, at(0))).toBeNull();
        expect(
          await store.users.setPhone(
            'nobody',
            { purePhoneNumber: '1', countryCode: '1', verifiedAt: at(0) },
            at(0),
          ),
        ).toBeNull();
        expect(await store.users.findIdentity('wxa', 'nobody')).toBeNull();
        expect((await store.exportDocuments()).users).toHaveLength(0);
      });

      it('finds the identity of a user in one app', async () => {
        const id = openid();
        const { user } = await store.users.upsertLogin({
          appid: 'wxa',
          openid: id,
          sessionKey: 'k',
          now: at(0),
        });
        expect((await store.users.findIdentityOfUser(user.id, 'wxa'))?.openid).toBe(id);
        expect(await store.users.findIdentityOfUser(user.id, 'wxb')).toBeNull();
      });
    });

    describe('sessions', () => {
      const session = (id: string, userId: string, expiresAt: Date) => ({
        id,
        secretHash: new Uint8Array(32).fill(7),
        userId,
        appid: 'wxa',
        createdAt: at(0),
        expiresAt,
        lastVerifiedAt: at(0),
      });

      it('returns an active session with its hash intact, and never an expired one', async () => {
        await store.sessions.insert(session('s-live', 'u1', at(DAY)));
        await store.sessions.insert(session('s-dead', 'u1', at(-1)));
        const live = await store.sessions.findActive('s-live', at(0));
        expect(live?.userId).toBe('u1');
        expect([...(live?.secretHash ?? [])]).toEqual(new Array(32).fill(7));
        expect(await store.sessions.findActive('s-dead', at(0))).toBeNull();
        expect(await store.sessions.findActive('s-live', at(DAY))).toBeNull();
      });

      it('extends, deletes one, and deletes all of a user', async () => {
        await store.sessions.insert(session('s1', 'u2', at(DAY)));
        await store.sessions.insert(session('s2', 'u2', at(DAY)));
        await store.sessions.insert(session('s3', 'u3', at(DAY)));
        await store.sessions.extend('s1', at(3 * DAY), at(DAY / 2));
        expect((await store.sessions.findActive('s1', at(2 * DAY)))?.lastVerifiedAt).toEqual(
          at(DAY / 2),
        );
        expect(await store.sessions.delete('s1')).toBe(true);
        expect(await store.sessions.delete('s1')).toBe(false);
        expect(await store.sessions.deleteAllOfUser('u2')).toBe(1);
        expect(await store.sessions.findActive('s3', at(0))).not.toBeNull();
      });

      it('never holds the raw token in a stored document', async () => {
        const manager = new SessionManager({ store: store.sessions, ttlMs: 30 * DAY });
        const { token } = await manager.issue('u4', 'wxa');
        const secret = token.split('.')[1] as string;
        const dump = JSON.stringify(await store.exportDocuments());
        expect(dump).not.toContain(token);
        expect(dump).not.toContain(secret);
        expect((await manager.verify(token)).userId).toBe('u4');
        expect(createSessionToken().token).not.toBe(token);
      });
    });

    describe('avatars', () => {
      it.runIf(options.avatarFiles === false)(
        'refuses image bytes (they belong in cloud storage)',
        async () => {
          await expect(
            store.avatars.save(
              'AvatarIdAvatarIdAvatar',
              { bytes: new Uint8Array([1]), contentType: 'image/png' },
              { userId: 'u-avatar', now: at(0) },
            ),
          ).rejects.toMatchObject({ code: 'bad_request' });
          expect(await store.avatars.find('AvatarIdAvatarIdAvatar')).toBeNull();
        },
      );

      it.runIf(options.avatarFiles !== false)(
        'keeps bytes and content type by id, and answers null for an unknown id',
        async () => {
          const bytes = new Uint8Array([
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 255,
          ]);
          await store.avatars.save(
            'AvatarIdAvatarIdAvatar',
            { bytes, contentType: 'image/png' },
            { userId: 'u-avatar', now: at(0) },
          );
          const found = await store.avatars.find('AvatarIdAvatarIdAvatar');
          expect(found?.contentType).toBe('image/png');
          expect([...(found?.bytes ?? [])]).toEqual([...bytes]);
          expect(await store.avatars.find('NoSuchAvatarNoSuchAvat')).toBeNull();
          expect(await store.avatars.find('../../etc/passwd')).toBeNull();
        },
      );

      it.runIf(options.avatarFiles !== false)(
        "prunes a user's uploads to the newest few and the protected one, and no one else's",
        async () => {
          const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9]);
          const ids = Array.from({ length: 6 }, (_, i) => `PruneAvatar${i}`.padEnd(22, 'x'));
          for (const [i, id] of ids.entries())
            await store.avatars.save(
              id,
              { bytes, contentType: 'image/png' },
              { userId: 'u-prune', now: at(i) },
            );
          const other = 'OtherUsersAvatarxxxxxx';
          await store.avatars.save(
            other,
            { bytes, contentType: 'image/png' },
            { userId: 'u-other', now: at(0) },
          );
          // Keep the newest 2 and the oldest (the profile's): 3 of 6 deleted.
          expect(await store.avatars.prune('u-prune', 2, [ids[0] as string])).toBe(3);
          const left = [];
          for (const id of ids) if (await store.avatars.find(id)) left.push(id);
          expect(left).toEqual([ids[0], ids[4], ids[5]]);
          expect(await store.avatars.find(other)).not.toBeNull();
          expect(await store.avatars.prune('u-prune', 2, [ids[0] as string])).toBe(0);
        },
      );
    });

    describe('account lifecycle', () => {
      const firstLogin = async (appid = 'wxa', unionid?: string) =>
        store.users.upsertLogin({
          appid,
          openid: openid(),
          ...(unionid ? { unionid } : {}),
          sessionKey: 'k',
          now: at(0),
        });
      const deletion = (deleteAt: Date) => ({
        requestedAt: at(0),
        deleteAt,
        reason: 'requested' as const,
      });

      it('schedules a deletion once, brings it forward but never postpones it', async () => {
        const { user } = await firstLogin();
        const first = await store.users.scheduleDeletion(user.id, deletion(at(7 * DAY)), at(0));
        expect(first?.deletion).toEqual(deletion(at(7 * DAY)));
        // A second request (a retry) keeps the first date.
        const again = await store.users.scheduleDeletion(user.id, deletion(at(9 * DAY)), at(1));
        expect(again?.deletion?.deleteAt).toEqual(at(7 * DAY));
        // WeChat's account cancellation: at once.
        const sooner = await store.users.scheduleDeletion(
          user.id,
          { requestedAt: at(2), deleteAt: at(2), reason: 'wechat_account_cancelled' },
          at(2),
        );
        expect(sooner?.deletion).toMatchObject({
          deleteAt: at(2),
          reason: 'wechat_account_cancelled',
        });
        expect(
          await store.users.scheduleDeletion('no-such-user', deletion(at(1)), at(0)),
        ).toBeNull();
      });

      it('cancels only before deleteAt, and never once an erasure claimed the user', async () => {
        const { user } = await firstLogin();
        await store.users.scheduleDeletion(user.id, deletion(at(DAY)), at(0));
        const cancelled = await store.users.cancelDeletion(user.id, at(1000));
        expect(cancelled?.deletion).toBeUndefined();
        expect((await store.users.findUser(user.id))?.deletion).toBeUndefined();
        expect(await store.users.cancelDeletion(user.id, at(1000))).toBeNull();

        await store.users.scheduleDeletion(user.id, deletion(at(DAY)), at(0));
        expect(await store.users.claimErasure(user.id, at(DAY - 1))).toBeNull();
        expect(await store.users.dueForErasure(at(DAY - 1), 10)).not.toContain(user.id);
        expect(await store.users.dueForErasure(at(DAY), 10)).toContain(user.id);
        expect(await store.users.cancelDeletion(user.id, at(DAY))).toBeNull();
        const claimed = await store.users.claimErasure(user.id, at(DAY));
        expect(claimed?.deletion?.purgeStartedAt).toEqual(at(DAY));
        // Claimed: even a cancel whose clock is behind (another process) loses.
        expect(await store.users.cancelDeletion(user.id, at(DAY - 5000))).toBeNull();
      });

      it('a cancel and an erasure claim racing: exactly one wins', async () => {
        for (let round = 0; round < 5; round += 1) {
          const { user } = await firstLogin();
          await store.users.scheduleDeletion(user.id, deletion(at(DAY)), at(0));
          const [cancel, claim] = await Promise.all([
            store.users.cancelDeletion(user.id, at(DAY - 1)),
            store.users.claimErasure(user.id, at(DAY)),
          ]);
          expect([cancel, claim].filter((r) => r !== null)).toHaveLength(1);
        }
      });

      it('collects everything of one user, then erases it all and nothing of anyone else', async () => {
        const unionid = `union-${openid()}`;
        const a = await firstLogin('wxa', unionid);
        const b = await store.users.upsertLogin({
          appid: 'wxb',
          openid: openid(),
          unionid,
          now: at(1),
        });
        expect(b.user.id).toBe(a.user.id);
        const other = await firstLogin();
        const userId = a.user.id;
        await store.users.setPhone(
          userId,
          { purePhoneNumber: '13800000000', countryCode: '86', verifiedAt: at(2) },
          at(2),
        );
        const session = (id: string, owner: string) => ({
          id,
          secretHash: new Uint8Array(32).fill(1),
          userId: owner,
          appid: 'wxa',
          createdAt: at(0),
          expiresAt: at(DAY),
          lastVerifiedAt: at(5),
        });
        await store.sessions.insert(session(`s-a-${userId}`, userId));
        await store.sessions.insert(session(`s-o-${other.user.id}`, other.user.id));
        await store.rewards.grantOnce(userId, 'welcome', at(3));
        await store.rewards.grantOnce(other.user.id, 'welcome', at(3));
        const consent = {
          userId,
          kind: 'privacy',
          version: 'v1',
          appid: 'wxa',
          agreedAt: at(4),
          recordedAt: at(5),
        };
        expect(await store.consents.record(consent)).toEqual(consent);
        // The same agreement reported again keeps the first record.
        expect(await store.consents.record({ ...consent, recordedAt: at(9) })).toEqual(consent);
        await store.consents.record({ ...consent, userId: other.user.id });

        const records = await store.accounts.collect(userId);
        expect(records?.user.phone?.purePhoneNumber).toBe('13800000000');
        expect(records?.identities.map((i) => i.appid).sort()).toEqual(['wxa', 'wxb']);
        expect(records?.sessions.map((x) => x.id)).toEqual([`s-a-${userId}`]);
        expect(records?.rewards).toEqual([{ kind: 'welcome', grantedAt: at(3) }]);
        expect(records?.consents).toEqual([consent]);
        expect(await store.accounts.collect('no-such-user')).toBeNull();

        await store.accounts.erase(userId);
        expect(await store.accounts.collect(userId)).toBeNull();
        const dump = JSON.stringify(await store.exportDocuments());
        expect(dump).not.toContain(userId);
        expect(dump).not.toContain(unionid);
        // Safe to run again (an erasure cut short is resumed).
        await store.accounts.erase(userId);
        const kept = await store.accounts.collect(other.user.id);
        expect(kept?.sessions).toHaveLength(1);
        expect(kept?.rewards).toHaveLength(1);
        expect(kept?.consents).toHaveLength(1);
        // The unionid is free again: the next login of that person is a new user holding it.
        const back = await firstLogin('wxa', unionid);
        expect(back.isNewUser).toBe(true);
        expect(back.user.unionid).toBe(unionid);
      });

      it("lists and ends one user's sessions only, and clears revoked fields", async () => {
        const { user } = await firstLogin();
        const session = (id: string, owner: string, expiresAt: Date) => ({
          id,
          secretHash: new Uint8Array(32).fill(2),
          userId: owner,
          appid: 'wxa',
          createdAt: at(0),
          expiresAt,
          lastVerifiedAt: at(0),
        });
        await store.sessions.insert(session(`l1-${user.id}`, user.id, at(DAY)));
        await store.sessions.insert(session(`l2-${user.id}`, user.id, at(-1)));
        await store.sessions.insert(session(`l3-${user.id}`, 'someone-else', at(DAY)));
        expect((await store.sessions.activeOfUser(user.id, at(0))).map((x) => x.id)).toEqual([
          `l1-${user.id}`,
        ]);
        expect(await store.sessions.deleteOfUser(`l3-${user.id}`, user.id)).toBe(false);
        expect(await store.sessions.findActive(`l3-${user.id}`, at(0))).not.toBeNull();
        expect(await store.sessions.deleteOfUser(`l1-${user.id}`, user.id)).toBe(true);
        expect(await store.sessions.findActive(`l1-${user.id}`, at(0))).toBeNull();

        await store.users.updateProfile(
          user.id,
          { nickname: 'n', avatarUrl: 'https://x/a' },
          at(1),
        );
        await store.users.setPhone(
          user.id,
          { purePhoneNumber: '1', countryCode: '86', verifiedAt: at(1) },
          at(1),
        );
        await store.users.setPendingAvatar(
          user.id,
          { fileId: 'cloud://env.1/p.png', traceId: `t-p-${user.id}`, submittedAt: at(1) },
          at(1),
        );
        const cleared = await store.users.clearFields(user.id, ['avatarUrl', 'phone'], at(2));
        expect(cleared?.profile).toEqual({ nickname: 'n' });
        expect(cleared?.pendingAvatar).toBeUndefined();
        expect(cleared?.phone).toBeUndefined();
        expect((await store.users.findUser(user.id))?.profile).toEqual({ nickname: 'n' });
      });

      it('keeps a cloud avatar pending until its check settles, once, for the newest only', async () => {
        const { user } = await firstLogin();
        await store.users.updateProfile(user.id, { avatarUrl: 'cloud://env.1/old.png' }, at(0));
        const first = {
          fileId: 'cloud://env.1/a.png',
          traceId: `t-a-${user.id}`,
          submittedAt: at(1),
        };
        const set = await store.users.setPendingAvatar(user.id, first, at(1));
        expect(set?.pendingAvatar).toEqual(first);
        expect(set?.profile.avatarUrl).toBe('cloud://env.1/old.png');
        expect((await store.users.findByPendingAvatar(first.traceId))?.id).toBe(user.id);
        expect(await store.users.findByPendingAvatar('no-such-trace')).toBeNull();
        // A newer upload replaces it: the first check's verdict then changes nothing.
        const second = {
          fileId: 'cloud://env.1/b.png',
          traceId: `t-b-${user.id}`,
          submittedAt: at(2),
        };
        await store.users.setPendingAvatar(user.id, second, at(2));
        expect(await store.users.findByPendingAvatar(first.traceId)).toBeNull();
        expect(await store.users.settlePendingAvatar(user.id, first, true, at(3))).toBeNull();
        expect((await store.users.findUser(user.id))?.profile.avatarUrl).toBe(
          'cloud://env.1/old.png',
        );
        // Approved: on the profile, no longer pending; a replay finds nothing to settle.
        const approved = await store.users.settlePendingAvatar(user.id, second, true, at(4));
        expect(approved?.profile.avatarUrl).toBe(second.fileId);
        expect(approved?.pendingAvatar).toBeUndefined();
        expect((await store.users.findUser(user.id))?.pendingAvatar).toBeUndefined();
        expect(await store.users.settlePendingAvatar(user.id, second, false, at(5))).toBeNull();
        // Refused: dropped, the profile keeps what it had.
        const third = {
          fileId: 'cloud://env.1/c.png',
          traceId: `t-c-${user.id}`,
          submittedAt: at(6),
        };
        await store.users.setPendingAvatar(user.id, third, at(6));
        const refused = await store.users.settlePendingAvatar(user.id, third, false, at(7));
        expect(refused?.profile.avatarUrl).toBe(second.fileId);
        expect(refused?.pendingAvatar).toBeUndefined();
        expect(await store.users.setPendingAvatar('no-such-user', third, at(8))).toBeNull();
      });
    });

    describe('avatar checks', () => {
      it.runIf(options.avatarFiles !== false)(
        'keeps an avatar pending until approved, finds it by trace id, lists and deletes uploads',
        async () => {
          const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7]);
          const id = 'CheckedAvatarIdxxxxxxx';
          await store.avatars.save(
            id,
            { bytes, contentType: 'image/png', review: { checkKey: 'key-1' } },
            { userId: 'u-check', now: at(0) },
          );
          expect((await store.avatars.find(id))?.review).toEqual({ checkKey: 'key-1' });
          expect(await store.avatars.findByTraceId('trace-1')).toBeNull();
          await store.avatars.setTraceId(id, 'trace-1');
          expect((await store.avatars.find(id))?.review).toEqual({
            checkKey: 'key-1',
            traceId: 'trace-1',
          });
          expect(await store.avatars.findByTraceId('trace-1')).toEqual({ id, userId: 'u-check' });
          expect(await store.avatars.approve(id)).toBe(true);
          expect(await store.avatars.approve(id)).toBe(false);
          expect((await store.avatars.find(id))?.review).toBeUndefined();
          expect(await store.avatars.findByTraceId('trace-1')).toBeNull();
          expect((await store.avatars.ofUser('u-check')).map((a) => a.id)).toEqual([id]);
          expect(await store.avatars.delete(id)).toBe(true);
          expect(await store.avatars.delete(id)).toBe(false);
          expect(await store.avatars.find(id)).toBeNull();
          expect(await store.avatars.ofUser('u-check')).toEqual([]);
        },
      );
    });

    describe('rewards', () => {
      it('grants a reward to exactly one of 20 concurrent claims, then answers when', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.rewards.grantOnce('u-gift', 'welcome', at(i))),
        );
        const winners = results.filter((r) => r.granted);
        expect(winners).toHaveLength(1);
        const grantedAt = winners[0]?.grantedAt;
        for (const r of results) expect(r.grantedAt).toEqual(grantedAt);
        expect(await store.rewards.grantOnce('u-gift', 'welcome', at(99))).toEqual({
          granted: false,
          grantedAt,
        });
        // Per user and per kind.
        expect((await store.rewards.grantOnce('u-other', 'welcome', at(0))).granted).toBe(true);
        expect((await store.rewards.grantOnce('u-gift', 'anniversary', at(0))).granted).toBe(true);
        expect((await store.exportDocuments()).rewards).toHaveLength(3);
      });
    });

    describe('access tokens', () => {
      it('grants the lease to exactly one of 20 concurrent callers', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.accessTokens.acquireLease('wxa', `h${i}`, at(10_000), at(0)),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('gives a lapsed or released lease to the next caller', async () => {
        expect(await store.accessTokens.acquireLease('wxa', 'h1', at(10_000), at(0))).toBe(true);
        expect(await store.accessTokens.acquireLease('wxa', 'h2', at(20_000), at(5_000))).toBe(
          false,
        );
        expect(await store.accessTokens.acquireLease('wxa', 'h2', at(20_000), at(10_000))).toBe(
          true,
        );
        await store.accessTokens.releaseLease('wxa', 'h1'); // not the holder any more: no effect
        expect(await store.accessTokens.acquireLease('wxa', 'h3', at(30_000), at(11_000))).toBe(
          false,
        );
        await store.accessTokens.releaseLease('wxa', 'h2');
        expect(await store.accessTokens.acquireLease('wxa', 'h3', at(30_000), at(11_000))).toBe(
          true,
        );
      });

      it('saves a token, releases the lease, and reads it back per appid', async () => {
        expect(await store.accessTokens.get('wxa')).toBeNull();
        await store.accessTokens.acquireLease('wxa', 'h1', at(10_000), at(0));
        const token = {
          appid: 'wxa',
          accessToken: 'T',
          obtainedAt: at(0),
          expiresAt: at(7_200_000),
          refreshAt: at(6_900_000),
        };
        await store.accessTokens.save(token, 'h1');
        expect(await store.accessTokens.get('wxa')).toEqual(token);
        expect(await store.accessTokens.get('wxb')).toBeNull();
        expect(await store.accessTokens.acquireLease('wxa', 'h2', at(20_000), at(1))).toBe(true);
      });
    });
  });
}
