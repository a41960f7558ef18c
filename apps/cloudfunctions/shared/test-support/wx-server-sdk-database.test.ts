/**
 * The cloud database stand-in (wx-server-sdk/database.js) against what the docs and the real SDK source say.
 * Each copy of the stand-in is loaded from its own folder, as the harness does for each built
 * cloud function; they must share one store.
 */
import { type TempDir, tempDir } from '@wxlogin/test-kit';
import { cp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Sdk from 'wx-server-sdk';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

interface StandinDatabaseControl {
  reset(): void;
  createCollection(name: string, options?: { env?: string }): void;
  dump(name: string, options?: { env?: string }): Record<string, unknown>[] | undefined;
  injectFailures(options?: {
    count?: number;
    kind?: 'timeout' | 'network' | 'http' | 'server';
    applied?: boolean;
    api?: string;
    collection?: string;
    code?: string;
    message?: string;
  }): void;
  clearFailures(): void;
  pendingFailures(): number;
  setTransactionLifetimeMs(ms: number): void;
  activeTransactions(): number;
  setClockOffsetMs(ms: number): void;
  counters(): { requests: number; failuresInjected: number };
}

type Standin = typeof Sdk & { __standin: { database: StandinDatabaseControl } };

const folder = fileURLToPath(new URL('./wx-server-sdk/', import.meta.url));
const copies: TempDir[] = [];

async function loadCopy(): Promise<Standin> {
  const copy = await tempDir('standin-db');
  copies.push(copy);
  const dir = copy.path;
  await cp(folder, dir, { recursive: true });
  return createRequire(join(dir, 'index.js'))(join(dir, 'index.js')) as Standin;
}

afterAll(async () => {
  await Promise.all(copies.map((copy) => copy.remove()));
});

const ENV = 'test-env-db-1a2b';
let cloud: Standin;
let control: StandinDatabaseControl;
let db: Sdk.Database;
let _: Sdk.DatabaseCommand;

beforeEach(async () => {
  cloud ??= await loadCopy();
  control = cloud.__standin.database;
  control.reset();
  process.env.TCB_ENV = ENV;
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  db = cloud.database();
  _ = db.command;
  control.createCollection('users');
});

async function rejection(promise: Promise<unknown>): Promise<Sdk.DatabaseError> {
  try {
    await promise;
  } catch (error) {
    return error as Sdk.DatabaseError;
  }
  throw new Error('expected a rejection');
}

function syncError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a synchronous throw');
}

describe('database(): init, env, collections', () => {
  it('throws before init(), like the SDK', async () => {
    const fresh = await loadCopy();
    const error = syncError(() => fresh.database()) as Sdk.DatabaseError;
    expect(error.errCode).toBe(-1);
    expect(error.message).toBe(
      "errCode: -1 unknown error | errMsg: Cloud API isn't enabled, please call init first\n" +
        '请先调用 init 完成初始化后再调用其他云 API。init 方法可传入一个对象用于设置默认配置，详见文档。',
    );
  });

  it('rejects every operation on a collection that was never created (-502005)', async () => {
    const error = await rejection(db.collection('nope').add({ data: { a: 1 } }));
    expect(error.errCode).toBe(-502005);
    expect(error.errMsg).toBe(
      'collection.add:fail -502005 database collection not exists. [ResourceNotFound] Db or Table not exist. Please check your request, but if the problem cannot be solved, contact us.',
    );
    expect(error.message).toBe(error.errMsg);
    expect((await rejection(db.collection('nope').doc('x').get())).errCode).toBe(-502005);
    expect((await rejection(db.collection('nope').where({}).count())).errCode).toBe(-502005);
  });

  it('creates a collection once; a second createCollection keeps the service code', async () => {
    expect(await db.createCollection('orders')).toMatchObject({ errMsg: 'createCollection:ok' });
    const again = await rejection(db.createCollection('orders'));
    expect(again.errCode).toBe(-1);
    expect(again.code).toBe('DATABASE_COLLECTION_ALREADY_EXIST');
    expect(again.errMsg).toMatch(/^createCollection:fail /);
  });

  it('keeps envs apart: DYNAMIC_CURRENT_ENV follows TCB_ENV, database({ env }) overrides', async () => {
    await db.collection('users').add({ data: { _id: 'same', where: 'a' } });
    control.createCollection('users', { env: 'other-env' });
    const other = cloud.database({ env: 'other-env' });
    expect((await other.collection('users').where({}).get()).data).toEqual([]);
    process.env.TCB_ENV = 'other-env';
    expect((await db.collection('users').where({}).count()).total).toBe(0);
    process.env.TCB_ENV = ENV;
    expect((await db.collection('users').where({}).count()).total).toBe(1);
  });

  it('shares one store between copies loaded from different folders', async () => {
    const second = await loadCopy();
    second.init({ env: second.DYNAMIC_CURRENT_ENV });
    await second
      .database()
      .collection('users')
      .add({ data: { _id: 'from-copy-2' } });
    const got = await db.collection('users').doc('from-copy-2').get();
    expect(got.data).toEqual({ _id: 'from-copy-2' });
    second.__standin.database.reset();
    expect(await rejection(db.collection('users').doc('from-copy-2').get())).toMatchObject({
      errCode: -502005,
    });
  });
});

describe('collection.add', () => {
  it('generates a string _id, or keeps the given one', async () => {
    const generated = await db.collection('users').add({ data: { n: 1 } });
    expect(generated).toEqual({
      _id: expect.stringMatching(/^[0-9a-f]{32}$/) as string,
      errMsg: 'collection.add:ok',
    });
    const given = await db.collection('users').add({ data: { _id: 'u-1', n: 2 } });
    expect(given).toEqual({ _id: 'u-1', errMsg: 'collection.add:ok' });
    const many = await db.collection('users').add({ data: [{ n: 3 }, { _id: 'u-2' }] });
    expect(many._ids).toEqual([expect.any(String), 'u-2']);
  });

  it('rejects a duplicate _id the way the service does, and keeps the first document', async () => {
    await db.collection('users').add({ data: { _id: 'dup', v: 1 } });
    const error = await rejection(db.collection('users').add({ data: { _id: 'dup', v: 2 } }));
    expect(error.errCode).toBe(-502001);
    expect(error.errMsg).toBe(
      `collection.add:fail -502001 database request fail. [FailedOperation] multiple write errors: [{write errors: [{E11000 duplicate key error collection: ${ENV}.users index: _id_ dup key: { : "dup" }}]}, {<nil>}]`,
    );
    expect(control.dump('users')).toEqual([{ _id: 'dup', v: 1 }]);
  });

  it('lets exactly one of 20 concurrent adds of one _id win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_unused, i) =>
        db.collection('users').add({ data: { _id: 'race', i } }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const errors = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as Sdk.DatabaseError] : [],
    );
    expect(errors).toHaveLength(19);
    for (const error of errors) expect(error.errMsg).toContain('E11000 duplicate key');
  });
});

describe('document.get / set / update / remove', () => {
  it('rejects a missing document unless throwOnNotFound is false', async () => {
    const error = await rejection(db.collection('users').doc('missing').get());
    expect(error.errCode).toBe(-1);
    expect(error.errMsg).toBe('document.get:fail document with _id missing does not exist');
    expect(error.code).toBeUndefined();
    const lenient = cloud.database({ throwOnNotFound: false });
    expect(await lenient.collection('users').doc('missing').get()).toEqual({
      data: null,
      errMsg: 'document.get:ok',
    });
  });

  it('set creates, then replaces the whole document', async () => {
    const doc = db.collection('users').doc('s1');
    expect(await doc.set({ data: { a: 1, b: { c: 2 } } })).toEqual({
      _id: 's1',
      errMsg: 'document.set:ok',
      stats: { updated: 0, created: 1 },
    });
    expect(await doc.set({ data: { b: { d: 3 } } })).toMatchObject({
      stats: { updated: 1, created: 0 },
    });
    expect((await doc.get()).data).toEqual({ _id: 's1', b: { d: 3 } });
    expect(await doc.set({ data: { b: { d: 3 } } })).toMatchObject({
      stats: { updated: 0, created: 0 },
    });
  });

  it('set refuses an _id in data and update commands', async () => {
    const withId = await rejection(
      db
        .collection('users')
        .doc('s2')
        .set({ data: { _id: 'x' } }),
    );
    expect(withId).toMatchObject({
      errCode: -501007,
      errMsg: 'document.set:fail -501007 invalid parameters. 不能更新_id的值',
    });
    const withCommand = await rejection(
      db
        .collection('users')
        .doc('s2')
        .set({ data: { n: _.inc(1) } }),
    );
    expect(withCommand).toMatchObject({
      errCode: -502001,
      errMsg: 'document.set:fail -502001 database request fail. update operator complicit',
    });
  });

  it('update merges nested objects field by field; _.set replaces', async () => {
    const doc = db.collection('users').doc('p1');
    await doc.set({ data: { profile: { nickname: 'a', avatar: 'x.png' }, tags: ['t'] } });
    expect(await doc.update({ data: { profile: { nickname: 'b' } } })).toEqual({
      stats: { updated: 1 },
      errMsg: 'document.update:ok',
    });
    expect((await doc.get()).data).toEqual({
      _id: 'p1',
      profile: { nickname: 'b', avatar: 'x.png' },
      tags: ['t'],
    });
    await doc.update({ data: { profile: _.set({ nickname: 'c' }) } });
    expect((await doc.get()).data).toMatchObject({ profile: { nickname: 'c' } });
    expect((await doc.get()).data?.profile).toEqual({ nickname: 'c' });
    await doc.update({ data: { 'profile.level': 2, tags: _.push('u'), gone: _.remove() } });
    expect((await doc.get()).data).toEqual({
      _id: 'p1',
      profile: { nickname: 'c', level: 2 },
      tags: ['t', 'u'],
    });
  });

  it('update answers updated: 0 for a missing document and for unchanged values', async () => {
    expect(
      await db
        .collection('users')
        .doc('nobody')
        .update({ data: { a: 1 } }),
    ).toEqual({ stats: { updated: 0 }, errMsg: 'document.update:ok' });
    expect(control.dump('users')).toEqual([]);
    const doc = db.collection('users').doc('same');
    await doc.set({ data: { a: 1 } });
    expect(await doc.update({ data: { a: 1 } })).toMatchObject({ stats: { updated: 0 } });
    expect(await doc.update({ data: { a: _.inc(1) } })).toMatchObject({ stats: { updated: 1 } });
  });

  it('update reports MongoDB write errors with -502001', async () => {
    const doc = db.collection('users').doc('w1');
    await doc.set({ data: { profile: null, name: 'x' } });
    const intoNull = await rejection(doc.update({ data: { profile: { nickname: 'n' } } }));
    expect(intoNull.errMsg).toBe(
      "document.update:fail -502001 database request fail. [FailedOperation] multiple write errors: [{write errors: [{Cannot create field 'nickname' in element {profile: null}}]}, {<nil>}]",
    );
    const incString = await rejection(doc.update({ data: { name: _.inc(1) } }));
    expect(incString.errCode).toBe(-502001);
    expect(incString.errMsg).toContain('Cannot apply $inc to a value of non-numeric type');
    expect((await doc.get()).data).toEqual({ _id: 'w1', profile: null, name: 'x' });
  });

  it('update validates its argument like the SDK (errCode -1, legacy message)', async () => {
    const empty = await rejection(db.collection('users').doc('v').update({ data: {} }));
    expect(empty.errCode).toBe(-1);
    expect(empty.errMsg).toBe('options.data must not be empty');
    expect(empty.message).toBe(
      'errCode: -1 unknown error | errMsg: options.data must not be empty',
    );
    const withId = await rejection(
      db
        .collection('users')
        .doc('v')
        .update({ data: { _id: 'z' } }),
    );
    expect(withId.errCode).toBe(-501007);
  });

  it('remove answers the number removed', async () => {
    await db.collection('users').add({ data: { _id: 'r1' } });
    expect(await db.collection('users').doc('r1').remove()).toEqual({
      stats: { removed: 1 },
      errMsg: 'document.remove:ok',
    });
    expect(await db.collection('users').doc('r1').remove()).toMatchObject({
      stats: { removed: 0 },
    });
  });
});

describe('values', () => {
  it('round-trips Dates as Dates and copies everything in and out', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const data = { _id: 'v1', at, nested: { list: [1, { deep: at }] }, gone: undefined };
    await db.collection('users').add({ data });
    data.nested.list.push(99);
    at.setTime(0);
    const first = (await db.collection('users').doc('v1').get()).data as unknown as {
      at: Date;
      nested: { list: unknown[] };
    };
    expect(first.at).toBeInstanceOf(Date);
    expect(first.at.toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(first).not.toHaveProperty('gone');
    expect(first.nested.list).toEqual([1, { deep: new Date('2026-01-02T03:04:05.678Z') }]);
    first.nested.list.push('mutated');
    first.at.setTime(1);
    const second = (await db.collection('users').doc('v1').get()).data;
    expect(second).toEqual({
      _id: 'v1',
      at: new Date('2026-01-02T03:04:05.678Z'),
      nested: { list: [1, { deep: new Date('2026-01-02T03:04:05.678Z') }] },
    });
  });

  it('stores serverDate() as the service clock at write time', async () => {
    control.setClockOffsetMs(3_600_000);
    const before = Date.now() + 3_600_000;
    await db.collection('users').add({
      data: { _id: 'sd', at: db.serverDate(), later: db.serverDate({ offset: 1000 }) },
    });
    const after = Date.now() + 3_600_000;
    const { at, later } = (await db.collection('users').doc('sd').get()).data as unknown as {
      at: Date;
      later: Date;
    };
    expect(at).toBeInstanceOf(Date);
    expect(at.getTime()).toBeGreaterThanOrEqual(before);
    expect(at.getTime()).toBeLessThanOrEqual(after);
    expect(later.getTime() - at.getTime()).toBe(1000);
    // The SDK does not serialize _.set's operand: a serverDate inside it arrives as { offset }.
    await db
      .collection('users')
      .doc('sd')
      .update({ data: { meta: _.set({ at: db.serverDate() }) } });
    expect((await db.collection('users').doc('sd').get()).data?.meta).toEqual({
      at: { offset: 0 },
    });
  });

  it('turns undefined and functions inside arrays into null (EJSON)', async () => {
    await db.collection('users').add({ data: { _id: 'arr', list: [undefined, 1, () => 2] } });
    expect((await db.collection('users').doc('arr').get()).data?.list).toEqual([null, 1, null]);
  });
});

describe('where / get / count', () => {
  beforeEach(async () => {
    await db.collection('users').add({
      data: [
        { _id: 'a', age: 10, city: 'sh', profile: { vip: true }, tags: ['x', 'y'] },
        { _id: 'b', age: 20, city: 'bj', profile: { vip: false }, tags: ['y'] },
        { _id: 'c', age: 30, city: 'sh', nick: null },
        { _id: 'd', age: '40', city: 'gz' },
      ],
    });
  });

  const ids = async (query: Sdk.Query) => (await query.get()).data.map((doc) => doc._id);

  it('supports the comparison and logic commands', async () => {
    const users = db.collection('users');
    expect(await ids(users.where({ age: _.gt(10) }))).toEqual(['b', 'c']);
    expect(await ids(users.where({ age: _.gte(10).and(_.lt(30)) }))).toEqual(['a', 'b']);
    expect(await ids(users.where({ age: _.lte(20) }))).toEqual(['a', 'b']);
    expect(await ids(users.where({ age: _.eq('40') }))).toEqual(['d']);
    expect(await ids(users.where({ city: _.neq('sh') }))).toEqual(['b', 'd']);
    expect(await ids(users.where({ city: _.in(['bj', 'gz']) }))).toEqual(['b', 'd']);
    expect(await ids(users.where({ city: _.nin(['bj', 'gz']) }))).toEqual(['a', 'c']);
    expect(await ids(users.where({ profile: _.exists(true) }))).toEqual(['a', 'b']);
    expect(await ids(users.where(_.or([{ city: 'bj' }, { age: 30 }])))).toEqual(['b', 'c']);
    expect(await ids(users.where(_.and([{ city: 'sh' }, { age: _.gt(10) }])))).toEqual(['c']);
    expect(await ids(users.where({ city: 'sh', age: 10 }))).toEqual(['a']);
  });

  it('matches nested objects by dotted path, arrays by element, null as missing', async () => {
    const users = db.collection('users');
    expect(await ids(users.where({ profile: { vip: true } }))).toEqual(['a']);
    expect(await ids(users.where({ 'profile.vip': false }))).toEqual(['b']);
    expect(await ids(users.where({ profile: {} }))).toEqual(['a', 'b', 'c', 'd']);
    expect(await ids(users.where({ tags: 'y' }))).toEqual(['a', 'b']);
    expect(await ids(users.where({ nick: null }))).toEqual(['a', 'b', 'c', 'd']);
    expect(await ids(users.where({ nick: _.exists(true) }))).toEqual(['c']);
    expect(await ids(users.where({ city: /^s/ }))).toEqual(['a', 'c']);
  });

  it('checks arguments synchronously like the SDK', () => {
    const users = db.collection('users');
    expect(syncError(() => users.where(5 as unknown as Sdk.QueryCondition)).message).toBe(
      '查询参数必须为对象',
    );
    expect(syncError(() => users.where({ a: undefined })).message).toBe(
      '查询参数对象值不能均为undefined',
    );
    expect(syncError(() => users.limit(1.5)).message).toBe('limitmust be integer');
    expect(syncError(() => users.skip(Number.NaN)).message).toBe('offsetmust be integer');
    expect(syncError(() => users.orderBy('age', 'up' as 'asc')).message).toBe('排序字符不合法');
    expect(syncError(() => users.doc({} as unknown as string)).message).toBe(
      'docId必须为字符串或数字',
    );
  });

  it('orders, skips, limits, projects; count ignores limit and skip', async () => {
    const users = db.collection('users');
    expect(await ids(users.where({ city: 'sh' }).orderBy('age', 'desc'))).toEqual(['c', 'a']);
    expect(await ids(users.where({}).orderBy('city', 'asc').orderBy('age', 'desc'))).toEqual([
      'b',
      'd',
      'c',
      'a',
    ]);
    expect(await ids(users.where({}).orderBy('_id', 'asc').skip(1).limit(2))).toEqual(['b', 'c']);
    expect((await users.where({ _id: 'a' }).field({ city: true }).get()).data).toEqual([
      { _id: 'a', city: 'sh' },
    ]);
    expect((await users.doc('b').field({ tags: false, profile: false }).get()).data).toEqual({
      _id: 'b',
      age: 20,
      city: 'bj',
    });
    expect((await users.where({}).limit(1).skip(1).count()).total).toBe(4);
  });

  it('answers at most 100 documents by default and 1000 with any larger limit', async () => {
    await db.createCollection('many');
    const data = Array.from({ length: 1205 }, (_unused, i) => ({ i }));
    await db.collection('many').add({ data });
    const many = db.collection('many');
    expect((await many.where({}).get()).data).toHaveLength(100);
    expect((await many.where({}).limit(0).get()).data).toHaveLength(100);
    expect((await many.where({}).limit(250).get()).data).toHaveLength(250);
    expect((await many.where({}).limit(5000).get()).data).toHaveLength(1000);
    expect((await many.where({}).count()).total).toBe(1205);
  });

  it('where().update and where().remove answer stats, multi by default', async () => {
    const users = db.collection('users');
    expect(await users.where({ city: 'sh' }).update({ data: { seen: true } })).toEqual({
      stats: { updated: 2 },
      errMsg: 'collection.update:ok',
    });
    expect(await users.where({ city: 'sh' }).update({ data: { seen: true } })).toMatchObject({
      stats: { updated: 0 },
    });
    expect(
      await users.where({ seen: true }).update({ data: { n: 1 }, multi: false }),
    ).toMatchObject({
      stats: { updated: 1 },
    });
    expect(await users.where({ city: 'sh' }).remove()).toEqual({
      stats: { removed: 2 },
      errMsg: 'collection.remove:ok',
    });
    expect((await users.where({}).count()).total).toBe(2);
  });
});

describe('asynchrony and atomicity', () => {
  it('settles on a later tick, never within the current one', async () => {
    let settled = false;
    const pending = db
      .collection('users')
      .add({ data: { _id: 'tick' } })
      .then(() => {
        settled = true;
      });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(settled).toBe(false);
    // The request has not reached the service yet either (latency on the way out, too).
    expect(control.dump('users')).toEqual([]);
    await pending;
    expect(settled).toBe(true);
  });

  it('applies 50 concurrent _.inc(1) atomically', async () => {
    await db.collection('users').add({ data: { _id: 'counter', n: 0 } });
    await Promise.all(
      Array.from({ length: 50 }, () =>
        db
          .collection('users')
          .doc('counter')
          .update({ data: { n: _.inc(1) } }),
      ),
    );
    expect((await db.collection('users').doc('counter').get()).data?.n).toBe(50);
  });

  it('lets two read-modify-write cycles interleave (a lost update), as network calls do', async () => {
    await db.collection('users').add({ data: { _id: 'lost', n: 0 } });
    const bump = async () => {
      const { data } = await db.collection('users').doc('lost').get();
      await db
        .collection('users')
        .doc('lost')
        .update({ data: { n: (data?.n as number) + 1 } });
    };
    await Promise.all([bump(), bump()]);
    expect((await db.collection('users').doc('lost').get()).data?.n).toBe(1);
  });
});

describe('transactions', () => {
  beforeEach(async () => {
    await db.collection('users').add({
      data: [
        { _id: 'acc', n: 0 },
        { _id: 'other', n: 0 },
      ],
    });
  });

  it('commits at the end of runTransaction and returns the callback value', async () => {
    const result = await db.runTransaction(async (t) => {
      const { data } = await t.collection('users').doc('acc').get();
      await t
        .collection('users')
        .doc('acc')
        .update({ data: { n: (data?.n as number) + 5 } });
      await t.collection('users').add({ data: { _id: 'created-in-t' } });
      // Not visible outside before commit.
      expect(
        await cloud
          .database({ throwOnNotFound: false })
          .collection('users')
          .doc('created-in-t')
          .get(),
      ).toMatchObject({ data: null });
      return 'done';
    });
    expect(result).toBe('done');
    expect((await db.collection('users').doc('acc').get()).data?.n).toBe(5);
    expect((await db.collection('users').doc('created-in-t').get()).data).toEqual({
      _id: 'created-in-t',
    });
  });

  it('reads a snapshot: a commit outside after the first read is not seen', async () => {
    const t = await db.startTransaction();
    expect((await t.collection('users').doc('acc').get()).data?.n).toBe(0);
    await db
      .collection('users')
      .doc('acc')
      .update({ data: { n: 9 } });
    expect((await t.collection('users').doc('acc').get()).data?.n).toBe(0);
    await t.rollback();
  });

  it('fails a write to a document another transaction wrote, at once, and does not retry it', async () => {
    const first = await db.startTransaction();
    await first
      .collection('users')
      .doc('acc')
      .update({ data: { n: 1 } });
    let calls = 0;
    const error = await rejection(
      db.runTransaction(async (t) => {
        calls += 1;
        await t
          .collection('users')
          .doc('acc')
          .update({ data: { n: 2 } });
      }),
    );
    expect(calls).toBe(1);
    expect(error.errCode).toBe(-501001);
    expect(error.code).toBeUndefined();
    expect(error.errMsg).toBe(
      'document.update:fail -501001 resource system error. [ResourceUnavailable.TransactionConflict] Transaction is conflict, maybe resource operated by others. Please check your request, but if the problem persists, contact us.',
    );
    await first.commit();
    expect((await db.collection('users').doc('acc').get()).data?.n).toBe(1);
  });

  it('fails a write to a document changed outside since the snapshot', async () => {
    const t = await db.startTransaction();
    await t.collection('users').doc('acc').get();
    await db
      .collection('users')
      .doc('acc')
      .update({ data: { n: 7 } });
    const error = await rejection(
      t
        .collection('users')
        .doc('acc')
        .update({ data: { n: 8 } }),
    );
    expect(error.errMsg).toContain('TransactionConflict');
    // The service aborted it: commit reports a raw service error.
    const commit = await rejection(t.commit());
    expect(commit.code).toBe('DATABASE_REQUEST_FAILED');
    expect(commit.errCode).toBeUndefined();
    expect((await db.collection('users').doc('acc').get()).data?.n).toBe(7);
  });

  it('makes a plain write to a locked document wait for the commit', async () => {
    const t = await db.startTransaction();
    await t
      .collection('users')
      .doc('acc')
      .update({ data: { n: _.inc(10) } });
    let done = false;
    const outside = db
      .collection('users')
      .doc('acc')
      .update({ data: { n: _.inc(1) } })
      .then((result) => {
        done = true;
        return result;
      });
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    await t.commit();
    expect(await outside).toMatchObject({ stats: { updated: 1 } });
    expect((await db.collection('users').doc('acc').get()).data?.n).toBe(11);
  });

  it('keeps counters exact under concurrent transactions (conflicts reject, none is lost)', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 12 }, () =>
        db.runTransaction(async (t) => {
          const { data } = await t.collection('users').doc('acc').get();
          await t
            .collection('users')
            .doc('acc')
            .update({ data: { n: (data?.n as number) + 1 } });
        }),
      ),
    );
    const committed = attempts.filter((a) => a.status === 'fulfilled').length;
    expect(committed).toBeGreaterThanOrEqual(1);
    expect(committed).toBeLessThan(12);
    expect((await db.collection('users').doc('acc').get()).data?.n).toBe(committed);
    expect(control.activeTransactions()).toBe(0);
  });

  it('retries only a conflict reported by commit, up to times + 1 runs', async () => {
    control.injectFailures({
      api: 'transaction.commit',
      kind: 'server',
      code: 'DATABASE_TRANSACTION_CONFLICT',
      message: 'conflict at commit',
      count: 2,
    });
    let calls = 0;
    await db.runTransaction(async (t) => {
      calls += 1;
      await t
        .collection('users')
        .doc('acc')
        .update({ data: { n: _.inc(1) } });
    });
    expect(calls).toBe(3);
    expect((await db.collection('users').doc('acc').get()).data?.n).toBe(1);

    control.injectFailures({
      api: 'transaction.commit',
      kind: 'server',
      code: 'DATABASE_TRANSACTION_CONFLICT',
      message: 'conflict at commit',
      count: 10,
    });
    calls = 0;
    const error = await rejection(
      db.runTransaction(() => {
        calls += 1;
        return Promise.resolve();
      }, 1),
    );
    expect(calls).toBe(2);
    expect(error.code).toBe('DATABASE_TRANSACTION_CONFLICT');
    control.clearFailures();
  });

  it('rejects with the rollback reason, or with what the callback threw, and writes nothing', async () => {
    const reason = await rejection(
      db.runTransaction(async (t) => {
        await t
          .collection('users')
          .doc('acc')
          .update({ data: { n: 100 } });
        await t.rollback('insufficient');
      }),
    );
    expect(reason).toBe('insufficient');
    const thrown = new Error('boom');
    expect(
      await rejection(
        db.runTransaction(async (t) => {
          await t
            .collection('users')
            .doc('other')
            .update({ data: { n: 100 } });
          throw thrown;
        }),
      ),
    ).toBe(thrown);
    expect(control.dump('users')).toEqual([
      { _id: 'acc', n: 0 },
      { _id: 'other', n: 0 },
    ]);
    expect(control.activeTransactions()).toBe(0);
  });

  it('allows only doc() and add() inside; doc.set reports created: 0 there', async () => {
    await db.runTransaction(async (t) => {
      const error = await rejection(t.collection('users').where({ n: 0 }).get());
      expect(error.errCode).toBe(-501007);
      expect(error.errMsg).toContain('事务中不支持批量操作');
      expect(
        await t
          .collection('users')
          .doc('fresh')
          .set({ data: { a: 1 } }),
      ).toMatchObject({
        stats: { created: 0 },
      });
      expect(
        await t
          .collection('users')
          .doc('missing')
          .get()
          .catch((e: Sdk.DatabaseError) => e.errMsg),
      ).toBe('document.get:fail document with _id missing does not exist');
    });
    expect((await db.collection('users').doc('fresh').get()).data).toEqual({ _id: 'fresh', a: 1 });
  });

  it('aborts a transaction left open past its lifetime and frees its locks', async () => {
    control.setTransactionLifetimeMs(30);
    const t = await db.startTransaction();
    await t
      .collection('users')
      .doc('acc')
      .update({ data: { n: 50 } });
    const outside = db
      .collection('users')
      .doc('acc')
      .update({ data: { n: _.inc(1) } });
    expect(await outside).toMatchObject({ stats: { updated: 1 } });
    expect((await rejection(t.commit())).code).toBe('DATABASE_REQUEST_FAILED');
    expect((await db.collection('users').doc('acc').get()).data?.n).toBe(1);
  });
});

describe('injected failures', () => {
  it('fails the next N calls with the client error shapes, then recovers', async () => {
    control.injectFailures({ count: 2 });
    const timeout = await rejection(db.collection('users').add({ data: { _id: 'f1' } }));
    expect(timeout).toMatchObject({
      errCode: -501001,
      errMsg: 'collection.add:fail -501001 resource system error. request timeout',
    });
    expect(await rejection(db.collection('users').doc('f1').get())).toMatchObject({
      errCode: -501001,
    });
    expect(control.pendingFailures()).toBe(0);
    expect(control.dump('users')).toEqual([]);
    await db.collection('users').add({ data: { _id: 'f1' } });
    expect(control.dump('users')).toEqual([{ _id: 'f1' }]);
  });

  it('maps service codes and can lose the answer of an applied write', async () => {
    control.injectFailures({ kind: 'server', code: 'DATABASE_PERMISSION_DENIED', message: 'no' });
    expect(await rejection(db.collection('users').where({}).get())).toMatchObject({
      errCode: -502003,
      errMsg: 'collection.get:fail -502003 database permission denied. no',
    });
    control.injectFailures({ kind: 'network', applied: true, api: 'collection.add' });
    const lost = await rejection(db.collection('users').add({ data: { _id: 'applied' } }));
    expect(lost.errMsg).toBe('collection.add:fail -501001 resource system error. socket hang up');
    expect(control.dump('users')).toEqual([{ _id: 'applied' }]);
    control.injectFailures({ kind: 'http', collection: 'users' });
    expect((await rejection(db.collection('users').where({}).count())).errMsg).toMatch(
      /^collection\.count:fail -501001 resource system error\. 502 Bad Gateway/,
    );
  });
});
