'use strict';
/**
 * Stand-in for the cloud database of wx-server-sdk 4.0.2 (`cloud.database()`), for tests outside
 * WeChat's cloud. Written from the official docs and from the source of the real stack:
 * wx-server-sdk 4.0.2 (index.js: src/api/database/**, src/utils/error.ts, src/utils/assert.ts),
 * @cloudbase/node-sdk 3.17.2 (src/utils/tcbapirequester.ts, src/utils/utils.ts) and
 * @cloudbase/database 1.4.3 (src/query.ts, document.ts, collection.ts, transaction/index.ts,
 * serializer/*.ts), which wx-server-sdk wraps. "source:" comments below name those files.
 *
 * The stand-in has two halves, like the real thing: a client (the SDK's validation, encoding of
 * queries/updates to MongoDB operators, result and error shapes) and a server (the CloudBase
 * document database: a MongoDB). The server half keeps its data per env in one Map on
 * globalThis[Symbol.for('wx-server-sdk-standin.database')], shared by every copy of this module
 * loaded in the process (the harness gives each built function its own copy).
 *
 * REPRODUCED (doc URL next to each behaviour in the code):
 * - cloud.database({ env, throwOnNotFound }) before init() throws the SDK's "Cloud API isn't
 *   enabled" error; env from the argument, else init's env; DYNAMIC_CURRENT_ENV = TCB_ENV.
 * - Collections must exist (console / db.createCollection): every operation on a missing one
 *   rejects with -502005 "database collection not exists"; createCollection of an existing one
 *   rejects with code DATABASE_COLLECTION_ALREADY_EXIST.
 * - collection.add({ data }): generated string _id (or the given one), `{ _id, errMsg }`;
 *   an array adds several (`{ _ids }`); a duplicate _id rejects with -502001 and MongoDB's
 *   E11000 duplicate key text.
 * - where(): nested objects become dotted paths (so `{ a: { b: 1 } }` matches a.b, and `{ a: {} }`
 *   matches everything), command eq neq gt gte lt lte in nin exists size all elemMatch mod
 *   and or nor not, RegExp and db.RegExp; MongoDB matching rules (arrays match by element,
 *   null matches a missing field, comparisons only within a type).
 * - get(): default 100 documents, at most 1000 (limit(0) means the default); skip, orderBy
 *   (several keys, stable), field() projections (inclusion/exclusion); count() ignores
 *   limit/skip. Synchronous throws of where/limit/skip/orderBy/doc argument checks.
 * - doc.get(): a missing document rejects "document.get:fail document with _id X does not
 *   exist" (errCode -1) unless throwOnNotFound is false, then `{ data: null }`.
 * - doc.set({ data }): create or replace, `{ _id, stats: { updated, created } }`; data with an
 *   _id or with update commands rejects.
 * - doc.update / where().update: plain nested objects merge field by field (dotted paths),
 *   `_.set(obj)` replaces, `_.remove()`, inc mul min max push pop shift unshift addToSet pull
 *   pullAll; `stats.updated` counts documents actually changed (0 for a missing document, and 0
 *   when the new values equal the old ones: MongoDB's nModified); MongoDB's write errors
 *   (Cannot create field..., non-numeric $inc, conflicting paths) with -502001.
 * - doc.remove / where().remove: `{ stats: { removed } }`.
 * - Values: Date round-trips as a Date; db.serverDate({ offset }) becomes the server's clock at
 *   write time; undefined fields are dropped, undefined/functions in arrays become null, -0
 *   becomes 0 (EJSON); a serverDate nested inside `_.set({...})` is stored as `{ offset }` (the
 *   SDK does not serialize `_.set`'s operand); results are copies, never shared with callers.
 * - Every call resolves or rejects on a later tick, before and after the "server" runs it; one
 *   document write is atomic; where().update/remove are atomic per document only.
 * - Transactions (runTransaction / startTransaction): snapshot isolation as the docs describe
 *   (reads see the snapshot, a write locks the document, a write to a document another
 *   transaction locked, or changed since the snapshot, fails at once with
 *   DATABASE_TRANSACTION_CONFLICT and aborts the transaction server-side; non-transactional
 *   writes to a locked document wait for commit/rollback). Only doc() and add() work inside;
 *   runTransaction's retry/rollback logic copied from @cloudbase/database, including the
 *   wx-server-sdk quirks: a conflict raised by an operation reaches runTransaction as an
 *   ordinary error (errCode -501001, no `code`) and is NOT retried; only a conflict from commit
 *   is; doc.set inside a transaction reports `created: 0`.
 * - Error shapes: the wrapper's toSDKError (message and errMsg "<api>:fail <errCode> <text>.
 *   <server message>", numeric errCode from TCB_ERR_CODE, -501001 for anything unmapped),
 *   the legacy CloudSDKError of the argument assertions, raw TcbError from transactions.
 * - Test-only controls (index.js `__standin.database`, exercised by
 *   ../wx-server-sdk-database.test.ts): reset, createCollection, inject the
 *   next N failures (timeout / connection reset / HTTP 502 / a server error code), optionally
 *   after the write was applied, dump stored data, transaction lifetime, counters.
 *
 * NOT REPRODUCED (a call that needs them rejects or throws with "[stand-in]" in the message,
 * rather than behaving differently):
 * - aggregate(), watch(), Geo types and geo operators, db.ObjectId, $rename/$bit/$sort in push,
 *   projection operators (slice/elemMatch), storing RegExp/Binary/BigInt values.
 * - where()/get()/count()/update()/remove() on a transaction's collection (the docs forbid
 *   them; the real SDK would run get() in the transaction and update/remove/count outside it).
 * - collection-level update()/remove() without where() (the SDK sends an empty query; its
 *   effect is not documented).
 * - Exact server texts not found in any doc or source: the E11000 and write-error messages
 *   follow MongoDB's Go driver as seen quoted from the real service; the text for an empty
 *   update, for using a finished transaction and for a negative skip/limit are the stand-in's.
 * - The _id format (32 hex chars here), document size limits (512 KiB / 16 MiB), index
 *   definitions and unique indexes other than _id, field-name rules ($ and . in keys),
 *   permissions/_openid (the server SDK is admin and adds no _openid), sort order of arrays
 *   (MongoDB sorts by min/max element), string collation (JS UTF-16 order), the transaction
 *   lifetime (60 s here, MongoDB's default; TCB's is not documented), request timeouts and the
 *   SDK's slow-request warning.
 */

const { randomBytes } = require('node:crypto');

// ----------------------------------------------------------------------------------------------
// Doc URLs used below
const DOC = {
  database:
    'https://developers.weixin.qq.com/miniprogram/dev/wxcloud/reference-sdk-api/Cloud.database.html',
  get: 'https://developers.weixin.qq.com/miniprogram/dev/wxcloud/reference-sdk-api/database/collection/Collection.get.html',
  limit:
    'https://developers.weixin.qq.com/minigame/dev/wxcloud/reference-sdk-api/database/collection/Collection.limit.html',
  add: 'https://developers.weixin.qq.com/miniprogram/dev/wxcloud/reference-sdk-api/database/collection/Collection.add.html',
  docGet:
    'https://developers.weixin.qq.com/miniprogram/dev/wxcloud/reference-sdk-api/database/document/Document.get.html',
  docSet:
    'https://developers.weixin.qq.com/minigame/en/dev/wxcloud/reference-client-api/database/doc.set.html',
  update:
    'https://mp.weixin.qq.com/debug/minigame/dev/wxcloud/reference-server-api/database/collection.update.html',
  commandSet:
    'https://mp.weixin.qq.com/debug/minigame/dev/wxcloud/reference-server-api/database/command.set.html',
  serverDate:
    'https://developers.weixin.qq.com/miniprogram/dev/wxcloud/reference-sdk-api/database/Database.serverDate.html',
  runTransaction:
    'https://developers.weixin.qq.com/miniprogram/dev/wxcloudservice/wxcloud/reference-sdk-api/database/Database.runTransaction.md',
  transactionGuide:
    'https://developers.weixin.qq.com/minigame/dev/wxcloud/guide/database/transaction.md',
};

// ----------------------------------------------------------------------------------------------
// Error codes and shapes.
// source: wx-server-sdk src/config/error.config.ts (ERR_CODE texts) and
// src/api/cloud/provider/tcb/config/error.config.ts (TCB_ERR_CODE).
const ERR_CODE = {
  '-1': 'unknown error',
  '-501001': 'resource system error',
  '-501002': 'resource server timeout',
  '-501003': 'exceed request limit',
  '-501004': 'exceed concurrent request limit',
  '-501005': 'invalid env',
  '-501006': 'invalid common parameters',
  '-501007': 'invalid parameters',
  '-501008': 'invalid request source',
  '-501009': 'resource not initialized',
  '-502001': 'database request fail',
  '-502002': 'database invalid command',
  '-502003': 'database permission denied',
  '-502004': 'database exceed collection limit',
  '-502005': 'database collection not exists',
};
const TCB_ERR_CODE = {
  SUCCESS: 0,
  SYS_ERR: -501001,
  SERVER_TIMEOUT: -501002,
  EXCEED_REQUEST_LIMIT: -501003,
  EXCEED_CONCURRENT_REQUEST_LIMIT: -501004,
  INVALIID_ENV: -501005,
  INVALID_COMMON_PARAM: -501006,
  INVALID_PARAM: -501007,
  INVALID_REQUEST_SOURCE: -501008,
  RESOURCE_NOT_INITIAL: -501009,
  DATABASE_REQUEST_FAILED: -502001,
  DATABASE_INVALID_OPERRATOR: -502002,
  DATABASE_PERMISSION_DENIED: -502003,
  DATABASE_COLLECTION_EXCEED_LIMIT: -502004,
  DATABASE_COLLECTION_NOT_EXIST: -502005,
};

/** source: @cloudbase/node-sdk src/utils/utils.ts TcbError (what the HTTP layer throws). */
class TcbError extends Error {
  constructor({ code, message, requestId }) {
    super(message);
    this.code = code;
    this.message = message;
    this.requestId = requestId || '';
  }
}

/**
 * source: wx-server-sdk src/utils/error.ts, the deprecated CloudSDKError the argument assertions
 * (src/utils/assert.ts) throw: errCode -1 and message "errCode: -1 unknown error | errMsg: ...".
 */
class CloudSDKError extends Error {
  constructor(options) {
    super(options.errMsg);
    this.errCode = -1;
    Object.defineProperties(this, {
      message: {
        get() {
          return (
            `errCode: ${this.errCode} ${ERR_CODE[this.errCode] || ''} | errMsg: ` + this.errMsg
          );
        },
        set(msg) {
          this.errMsg = msg;
        },
      },
    });
    this.errCode = options.errCode || -1;
    this.errMsg = options.errMsg;
  }
}

/** source: wx-server-sdk database/helper/error-checker.ts maybeTransformError. */
function maybeTransformError(e) {
  if (e && e.code) {
    return { errCode: TCB_ERR_CODE[e.code] || TCB_ERR_CODE.SYS_ERR, errMsg: e.message };
  }
  return e;
}

/** source: wx-server-sdk src/utils/error.ts toSDKError (= returnAsFinalCloudSDKError). */
function toSDKError(e, apiName) {
  if (e) {
    if (e instanceof Error && typeof e.errMsg === 'string') return e;
    const prefix = `${apiName}:fail `;
    let err;
    if (e instanceof Error) {
      e.message = `${prefix}${e.message}`;
      if (typeof e.stack === 'string') e.stack = e.stack.slice(0, 7) + prefix + e.stack.slice(7);
      err = e;
      err.errCode = -1;
    } else if (typeof e === 'string') {
      err = new Error(`${prefix}${e}`);
      err.errCode = -1;
    } else {
      const errMsg = e.errMsg || '';
      err = new Error(`${apiName}:fail ${e.errCode} ${ERR_CODE[e.errCode] || ''}. ${errMsg}`);
      err.errCode = e.errCode || -1;
    }
    err.errMsg = err.message + '';
    return err;
  }
  const err = new Error(`${apiName}:fail`);
  err.errCode = -1;
  err.errMsg = err.message + '';
  return err;
}

/** What every data operation of the wrapper does with a failure (collection.ts, document.ts). */
function dataError(e, apiName) {
  return toSDKError(maybeTransformError(e), apiName);
}

function requestId() {
  return randomBytes(8).toString('hex');
}

function serverError(code, message) {
  return new TcbError({ code, message, requestId: requestId() });
}

function standinError(message) {
  return new Error(`[stand-in] ${message}`);
}

const MSG = {
  // Quoted from the real service (developers.weixin.qq.com community reports and public code).
  collectionMissing:
    '[ResourceNotFound] Db or Table not exist. Please check your request, but if the problem cannot be solved, contact us.',
  collectionExists: '[ResourceUnavailable.ResourceExist] Table exist.',
  // The message @cloudbase/node-sdk's own test suite uses for a conflict (test/database/transaction).
  conflict:
    '[ResourceUnavailable.TransactionConflict] Transaction is conflict, maybe resource operated by others. Please check your request, but if the problem persists, contact us.',
};

function writeError(mongoMessage) {
  // The service reports MongoDB write errors through the Go driver's text, e.g.
  // "[FailedOperation] multiple write errors: [{write errors: [{Cannot create field 'x' in
  // element {y: null}}]}, {<nil>}]" (quoted from the real service in public code).
  return serverError(
    'DATABASE_REQUEST_FAILED',
    `[FailedOperation] multiple write errors: [{write errors: [{${mongoMessage}}]}, {<nil>}]`,
  );
}

// ----------------------------------------------------------------------------------------------
// Shared server state: one per process, whichever copy of this module created it.
const SHARED_KEY = Symbol.for('wx-server-sdk-standin.database');
const SHARED_VERSION = 1;

function freshState(previous) {
  return {
    version: SHARED_VERSION,
    envs: new Map(), // env -> Map<collection, Map<idKey, { id, versions: [{ seq, doc }] }>>
    seq: 0, // commit sequence (MVCC)
    transactions: new Map(), // id -> transaction
    locks: new Map(), // `${env}\0${collection}\0${idKey}` -> transaction id
    waiters: new Map(), // lock key -> [resolve]
    failures: [], // injected failures, first match wins
    transactionLifetimeMs: previous ? previous.transactionLifetimeMs : 60_000,
    counters: { requests: 0, failuresInjected: 0 },
    clockOffsetMs: 0,
  };
}

function state() {
  let s = globalThis[SHARED_KEY];
  if (!s) {
    s = freshState();
    globalThis[SHARED_KEY] = s;
  } else if (s.version !== SHARED_VERSION) {
    throw new Error('wx-server-sdk stand-in: two incompatible versions of database.js are loaded');
  }
  return s;
}

function serverNow() {
  return new Date(Date.now() + state().clockOffsetMs);
}

function envCollections(env) {
  const s = state();
  let collections = s.envs.get(env);
  if (!collections) {
    collections = new Map();
    s.envs.set(env, collections);
  }
  return collections;
}

function requireCollection(env, name) {
  const collection = envCollections(env).get(name);
  if (!collection) throw serverError('DATABASE_COLLECTION_NOT_EXIST', MSG.collectionMissing);
  return collection;
}

function idKey(id) {
  return `${typeof id}:${String(id)}`;
}

function lockKey(env, collection, id) {
  return `${env}\0${collection}\0${idKey(id)}`;
}

function tick() {
  return new Promise((resolve) => setImmediate(resolve));
}

// ----------------------------------------------------------------------------------------------
// Values. The SDK serializes with its own `serialize` then EJSON (relaxed: false) and the
// service answers EJSON that the SDK parses back (source: serializer/datatype.ts, utils/utils.ts).
const BRAND = Symbol.for('wx-server-sdk-standin.database.internal');
const OMIT = Symbol('omit');

function internalKind(x) {
  return x !== null && typeof x === 'object' && typeof x[BRAND] === 'string' ? x[BRAND] : undefined;
}

function typeTag(x) {
  return Object.prototype.toString.call(x).slice(8, -1).toLowerCase();
}

function isPlainObject(x) {
  return typeTag(x) === 'object';
}

/** EJSON.stringify(relaxed: false) followed by EJSON.parse (relaxed), as one value copy. */
function ejson(value, seen = []) {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return OMIT;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (typeof value === 'bigint') throw new TypeError('Do not know how to serialize a BigInt');
  const tag = typeTag(value);
  if (tag === 'date') {
    if (Number.isNaN(value.getTime())) throw standinError('an invalid Date cannot be stored');
    return new Date(value.getTime());
  }
  if (tag === 'regexp') {
    return { $regularExpression: { pattern: value.source, options: value.flags } };
  }
  if (seen.includes(value)) throw new TypeError('Converting circular structure to JSON');
  const inner = [...seen, value];
  if (Array.isArray(value)) {
    return value.map((item) => {
      const copy = ejson(item, inner);
      return copy === OMIT ? null : copy;
    });
  }
  if (tag === 'map' || tag === 'set' || tag === 'weakmap' || tag === 'weakset') return {};
  if (ArrayBuffer.isView(value) || tag === 'arraybuffer') {
    throw standinError('binary values are not reproduced');
  }
  if (typeof value.toJSON === 'function' && !internalKind(value))
    return ejson(value.toJSON(), seen);
  const out = {};
  for (const key of Object.keys(value)) {
    const copy = ejson(value[key], inner);
    if (copy !== OMIT) out[key] = copy;
  }
  return out;
}

/** source: @cloudbase/database serializer/datatype.ts serialize. */
function sdkSerialize(value, visited = [value]) {
  const kind = internalKind(value);
  if (kind) {
    if (kind === 'serverDate') return { $tcb_server_date: { offset: value.offset } };
    if (kind === 'regexp') {
      return { $regularExpression: { pattern: value.regexp, options: value.options } };
    }
    if (kind === 'query') return value.toJSON();
    if (kind === 'update' || kind === 'logic') {
      throw standinError('a database command cannot be stored as a value');
    }
    return value;
  }
  const tag = typeTag(value);
  if (tag === 'date') return value;
  if (tag === 'regexp') {
    return { $regularExpression: { pattern: value.source, options: value.flags } };
  }
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (visited.includes(item)) throw new Error('Cannot convert circular structure to JSON');
      return sdkSerialize(item, [...visited, item]);
    });
  }
  if (tag === 'object') {
    const out = {};
    for (const key in value) {
      if (visited.includes(value[key])) {
        throw new Error('Cannot convert circular structure to JSON');
      }
      if (value[key] !== undefined) out[key] = sdkSerialize(value[key], [...visited, value[key]]);
    }
    return out;
  }
  return value;
}

function wire(value) {
  const copy = ejson(value);
  return copy === OMIT ? undefined : copy;
}

/** A deep copy of a stored value (only plain objects, arrays, Dates and primitives are stored). */
function clone(value) {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(clone);
  const out = {};
  for (const key of Object.keys(value)) out[key] = clone(value[key]);
  return out;
}

function isServerDateMarker(x) {
  return (
    isPlainObject(x) &&
    Object.keys(x).length === 1 &&
    isPlainObject(x.$tcb_server_date) &&
    typeof x.$tcb_server_date.offset === 'number'
  );
}

function isRegexMarker(x) {
  return isPlainObject(x) && Object.keys(x).length === 1 && isPlainObject(x.$regularExpression);
}

/** Server side: a value to store, with serverDate markers replaced by the server's clock. */
function materialize(value, now) {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map((item) => materialize(item, now));
  // "构造一个服务端时间的引用。可用于查询条件、更新字段值或新增记录时的字段值" (DOC.serverDate)
  if (isServerDateMarker(value)) return new Date(now.getTime() + value.$tcb_server_date.offset);
  if (isRegexMarker(value)) throw standinError('storing regular expressions is not reproduced');
  const out = {};
  for (const key of Object.keys(value)) out[key] = materialize(value[key], now);
  return out;
}

/** Server side: a query value, with serverDate markers resolved and regexes compiled. */
function prepareQueryValue(value, now) {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || value instanceof RegExp) return value;
  if (Array.isArray(value)) return value.map((item) => prepareQueryValue(item, now));
  if (isServerDateMarker(value)) return new Date(now.getTime() + value.$tcb_server_date.offset);
  if (isRegexMarker(value)) {
    const { pattern, options } = value.$regularExpression;
    return new RegExp(pattern, String(options || '').replace(/[^imsu]/g, ''));
  }
  const out = {};
  for (const key of Object.keys(value)) out[key] = prepareQueryValue(value[key], now);
  return out;
}

// BSON comparison order: null < numbers < strings < objects < arrays < booleans < dates.
function rank(v) {
  if (v === undefined || v === null) return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  if (v instanceof Date) return 9;
  if (typeof v === 'boolean') return 8;
  if (Array.isArray(v)) return 5;
  if (v instanceof RegExp) return 11;
  return 4;
}

function compare(a, b) {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 1:
      return 0;
    case 2:
      if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
      if (Number.isNaN(b)) return 1;
      return a < b ? -1 : a > b ? 1 : 0;
    case 3:
      return a < b ? -1 : a > b ? 1 : 0;
    case 8:
      return Number(a) - Number(b);
    case 9:
      return a.getTime() - b.getTime();
    case 5: {
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const c = compare(a[i], b[i]);
        if (c) return c;
      }
      return a.length - b.length;
    }
    case 4: {
      const ka = Object.keys(a);
      const kb = Object.keys(b);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const c = compare(a[ka[i]], b[kb[i]]) || (ka[i] < kb[i] ? -1 : ka[i] > kb[i] ? 1 : 0);
        if (c) return c;
      }
      return ka.length - kb.length;
    }
    default:
      return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  }
}

/** BSON equality: same type, same value; objects compare field order too. */
function equal(a, b) {
  if (rank(a) !== rank(b)) return false;
  if (a === null || a === undefined) return b === null || b === undefined;
  if (typeof a === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (a instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (typeof a === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && equal(a[k], b[k]));
  }
  return a === b;
}

/** MongoDB shell-like rendering, for the texts of write errors. */
function render(v) {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[ ${v.map(render).join(', ')} ]`;
  if (typeof v === 'object') {
    return `{ ${Object.keys(v)
      .map((k) => `${k}: ${render(v[k])}`)
      .join(', ')} }`;
  }
  return String(v);
}

function bsonTypeName(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Date) return 'date';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

// ----------------------------------------------------------------------------------------------
// Matching (the server's MongoDB query semantics).
const MISSING = Symbol('missing');

function resolvePath(doc, path) {
  const parts = path.split('.');
  const out = [];
  const walk = (value, i) => {
    if (i === parts.length) {
      out.push(value);
      return;
    }
    const part = parts[i];
    if (Array.isArray(value)) {
      if (/^\d+$/.test(part)) {
        walk(Number(part) < value.length ? value[Number(part)] : MISSING, i + 1);
        return;
      }
      let any = false;
      for (const element of value) {
        if (isPlainObject(element)) {
          any = true;
          walk(element, i);
        }
      }
      if (!any) out.push(MISSING);
      return;
    }
    if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, part)) {
      walk(value[part], i + 1);
    } else {
      out.push(MISSING);
    }
  };
  walk(doc, 0);
  return out;
}

/** The candidates a comparison looks at: each value, and each element of an array value. */
function expand(values) {
  const out = [];
  for (const v of values) {
    out.push(v);
    if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

function valueMatches(candidate, expected) {
  if (expected instanceof RegExp) {
    return (
      typeof candidate === 'string' && new RegExp(expected.source, expected.flags).test(candidate)
    );
  }
  if (expected === null) return candidate === MISSING || candidate === null;
  if (candidate === MISSING) return false;
  return equal(candidate, expected);
}

function matchesEq(values, expected) {
  return expand(values).some((c) => valueMatches(c, expected));
}

function isOperatorObject(cond) {
  if (!isPlainObject(cond)) return false;
  const keys = Object.keys(cond);
  return keys.length > 0 && keys.some((k) => k.startsWith('$'));
}

function badQuery(message) {
  return serverError('DATABASE_REQUEST_FAILED', `[FailedOperation] ${message}`);
}

function evalOperators(values, cond) {
  for (const [op, arg] of Object.entries(cond)) {
    if (!evalOperator(values, op, arg)) return false;
  }
  return true;
}

function comparable(c, arg) {
  return c !== MISSING && rank(c) === rank(arg);
}

function evalOperator(values, op, arg) {
  switch (op) {
    case '$eq':
      return matchesEq(values, arg);
    case '$ne':
      return !matchesEq(values, arg);
    case '$gt':
      return expand(values).some((c) => comparable(c, arg) && arg !== null && compare(c, arg) > 0);
    case '$gte':
      return arg === null
        ? matchesEq(values, null)
        : expand(values).some((c) => comparable(c, arg) && compare(c, arg) >= 0);
    case '$lt':
      return expand(values).some((c) => comparable(c, arg) && arg !== null && compare(c, arg) < 0);
    case '$lte':
      return arg === null
        ? matchesEq(values, null)
        : expand(values).some((c) => comparable(c, arg) && compare(c, arg) <= 0);
    case '$in':
      if (!Array.isArray(arg)) throw badQuery('$in needs an array');
      return arg.some((x) => matchesEq(values, x));
    case '$nin':
      if (!Array.isArray(arg)) throw badQuery('$nin needs an array');
      return !arg.some((x) => matchesEq(values, x));
    case '$exists':
      return arg ? values.some((v) => v !== MISSING) : values.every((v) => v === MISSING);
    case '$not':
      if (arg instanceof RegExp) return !matchesEq(values, arg);
      if (!isOperatorObject(arg)) throw badQuery('$not needs a regex or a document');
      return !evalOperators(values, arg);
    case '$size':
      return values.some((v) => Array.isArray(v) && v.length === arg);
    case '$all':
      if (!Array.isArray(arg)) throw badQuery('$all needs an array');
      return arg.length > 0 && arg.every((x) => matchesEq(values, x));
    case '$elemMatch':
      if (!isPlainObject(arg)) throw badQuery('$elemMatch needs an Object');
      return values.some(
        (v) =>
          Array.isArray(v) &&
          v.some((e) =>
            Object.keys(arg).every((k) => k.startsWith('$'))
              ? evalOperators([e], arg)
              : isPlainObject(e) && matchDoc(e, arg),
          ),
      );
    case '$mod': {
      if (!Array.isArray(arg) || arg.length !== 2) {
        throw badQuery('malformed mod, needs to be an array');
      }
      const [divisor, remainder] = arg;
      return expand(values).some(
        (c) => typeof c === 'number' && Math.trunc(c) % divisor === remainder,
      );
    }
    case '$nearSphere':
    case '$geoWithin':
    case '$geoIntersects':
      throw standinError(`geo queries (${op}) are not reproduced`);
    default:
      throw badQuery(`unknown operator: ${op}`);
  }
}

function matchDoc(doc, filter) {
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(cond) || cond.length === 0) {
        throw badQuery(`${key} must be a nonempty array`);
      }
      const results = cond.map((sub) => {
        if (!isPlainObject(sub)) throw badQuery(`${key} argument's entries must be objects`);
        return matchDoc(doc, sub);
      });
      if (key === '$and' && !results.every(Boolean)) return false;
      if (key === '$or' && !results.some(Boolean)) return false;
      if (key === '$nor' && results.some(Boolean)) return false;
      continue;
    }
    if (key.startsWith('$')) throw badQuery(`unknown top level operator: ${key}`);
    const values = resolvePath(doc, key);
    if (isOperatorObject(cond)) {
      if (!evalOperators(values, cond)) return false;
    } else if (!matchesEq(values, cond)) {
      return false;
    }
  }
  return true;
}

// ----------------------------------------------------------------------------------------------
// Updates (the server's MongoDB update semantics).
function parentOf(doc, parts, create) {
  let node = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i];
    let next;
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(part)) {
        throw writeError(
          `Cannot create field '${part}' in element {${parts[i - 1]}: ${render(node)}}`,
        );
      }
      next = node[Number(part)];
    } else {
      next = Object.prototype.hasOwnProperty.call(node, part) ? node[part] : undefined;
    }
    if (next === undefined) {
      if (!create) return undefined;
      next = {};
      if (Array.isArray(node)) {
        while (node.length < Number(part)) node.push(null);
        node[Number(part)] = next;
      } else {
        node[part] = next;
      }
    } else if (next === null || typeof next !== 'object' || next instanceof Date) {
      if (!create) return undefined;
      throw writeError(
        `Cannot create field '${parts[i + 1]}' in element {${part}: ${render(next)}}`,
      );
    }
    node = next;
  }
  return node;
}

function getAt(doc, parts) {
  const parent = parentOf(doc, parts, false);
  if (parent === undefined) return MISSING;
  const last = parts[parts.length - 1];
  if (Array.isArray(parent)) {
    return /^\d+$/.test(last) && Number(last) < parent.length ? parent[Number(last)] : MISSING;
  }
  return Object.prototype.hasOwnProperty.call(parent, last) ? parent[last] : MISSING;
}

function setAt(doc, parts, value) {
  const parent = parentOf(doc, parts, true);
  const last = parts[parts.length - 1];
  if (Array.isArray(parent)) {
    if (!/^\d+$/.test(last)) {
      throw writeError(
        `Cannot create field '${last}' in element {${parts[parts.length - 2]}: ${render(parent)}}`,
      );
    }
    while (parent.length < Number(last)) parent.push(null);
    parent[Number(last)] = value;
  } else {
    parent[last] = value;
  }
}

function unsetAt(doc, parts) {
  const parent = parentOf(doc, parts, false);
  if (parent === undefined) return;
  const last = parts[parts.length - 1];
  if (Array.isArray(parent)) {
    if (/^\d+$/.test(last) && Number(last) < parent.length) parent[Number(last)] = null;
  } else {
    delete parent[last];
  }
}

function applyUpdate(original, update, now) {
  const doc = clone(original);
  const ops = [];
  for (const [op, fields] of Object.entries(update)) {
    if (!op.startsWith('$')) throw writeError(`Unknown modifier: ${op}`);
    if (!isPlainObject(fields))
      throw writeError(`Modifiers operate on fields but we found another type instead`);
    for (const [path, arg] of Object.entries(fields)) ops.push({ op, path, arg });
  }
  if (ops.length === 0) {
    throw writeError("'$set' is empty. You must specify a field like so: {$set: {<field>: ...}}");
  }
  // "Updating the path 'a.b' would create a conflict at 'a'" (MongoDB).
  for (let i = 0; i < ops.length; i++) {
    for (let j = 0; j < ops.length; j++) {
      if (i === j) continue;
      const a = ops[i].path;
      const b = ops[j].path;
      if (a === b ? i < j : b.startsWith(`${a}.`)) {
        throw writeError(`Updating the path '${b}' would create a conflict at '${a}'`);
      }
    }
  }
  for (const { op, path, arg: rawArg } of ops) {
    const parts = path.split('.');
    if (parts[0] === '_id') {
      throw writeError(
        "Performing an update on the path '_id' would modify the immutable field '_id'",
      );
    }
    const last = parts[parts.length - 1];
    const current = getAt(doc, parts);
    // $pull's argument is a condition (it may hold a regex), the others are values.
    const arg = op === '$pull' ? undefined : materialize(rawArg, now);
    switch (op) {
      case '$set':
        setAt(doc, parts, arg);
        break;
      case '$unset':
        unsetAt(doc, parts);
        break;
      case '$inc':
      case '$mul': {
        const verb = op === '$inc' ? 'increment' : 'multiply';
        if (typeof arg !== 'number') {
          throw writeError(`Cannot ${verb} with non-numeric argument: {${path}: ${render(arg)}}`);
        }
        if (current === MISSING) {
          setAt(doc, parts, op === '$inc' ? arg : 0);
        } else if (typeof current !== 'number') {
          throw writeError(
            `Cannot apply ${op} to a value of non-numeric type. {_id: ${render(doc._id)}} has the field '${last}' of non-numeric type ${bsonTypeName(current)}`,
          );
        } else {
          setAt(doc, parts, op === '$inc' ? current + arg : current * arg);
        }
        break;
      }
      case '$min':
      case '$max':
        if (
          current === MISSING ||
          (op === '$min' ? compare(arg, current) < 0 : compare(arg, current) > 0)
        ) {
          setAt(doc, parts, arg);
        }
        break;
      case '$push':
      case '$addToSet':
      case '$pop':
      case '$pull':
      case '$pullAll': {
        if (current !== MISSING && !Array.isArray(current)) {
          throw writeError(
            op === '$pop' || op === '$pull' || op === '$pullAll'
              ? `Cannot apply ${op} to a non-array value`
              : `The field '${last}' must be an array but is of type ${bsonTypeName(current)} in document {_id: ${render(doc._id)}}`,
          );
        }
        if (op === '$pop' || op === '$pull' || op === '$pullAll') {
          if (current === MISSING) break;
          let next = current.slice();
          if (op === '$pop') {
            if (arg === 1) next.pop();
            else if (arg === -1) next.shift();
            else throw writeError('$pop expects 1 or -1');
          } else if (op === '$pullAll') {
            if (!Array.isArray(arg)) throw writeError('$pullAll requires an array argument');
            next = next.filter((e) => !arg.some((x) => equal(e, x)));
          } else {
            const cond = prepareQueryValue(rawArg, now);
            next = next.filter((e) => {
              if (isOperatorObject(cond) && Object.keys(cond).every((k) => k.startsWith('$'))) {
                return !evalOperators([e], cond);
              }
              if (isPlainObject(cond) && isPlainObject(e)) return !matchDoc(e, cond);
              return !valueMatches(e, cond);
            });
          }
          setAt(doc, parts, next);
          break;
        }
        const list = current === MISSING ? [] : current.slice();
        const hasEach = isPlainObject(arg) && Object.prototype.hasOwnProperty.call(arg, '$each');
        const items = hasEach ? arg.$each : [arg];
        if (!Array.isArray(items)) throw writeError('The argument to $each must be an array');
        if (op === '$addToSet') {
          for (const item of items) if (!list.some((e) => equal(e, item))) list.push(item);
          setAt(doc, parts, list);
          break;
        }
        if (
          hasEach &&
          (arg.$sort !== undefined ||
            Object.keys(arg).some((k) => !['$each', '$position', '$slice'].includes(k)))
        ) {
          throw standinError('$push with $sort is not reproduced');
        }
        let position = hasEach && arg.$position !== undefined ? arg.$position : list.length;
        if (position < 0) position = Math.max(0, list.length + position);
        list.splice(Math.min(position, list.length), 0, ...items);
        let result = list;
        if (hasEach && arg.$slice !== undefined) {
          result = arg.$slice >= 0 ? list.slice(0, arg.$slice) : list.slice(arg.$slice);
        }
        setAt(doc, parts, result);
        break;
      }
      case '$rename':
      case '$bit':
      case '$currentDate':
        throw standinError(`${op} is not reproduced`);
      default:
        throw writeError(
          `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
        );
    }
  }
  return { doc, changed: !equal(original, doc) };
}

// ----------------------------------------------------------------------------------------------
// Projection, sorting.
function project(doc, projection) {
  if (!projection) return doc;
  const entries = Object.entries(projection);
  if (entries.length === 0) return doc;
  for (const [, v] of entries) {
    if (typeof v !== 'number') throw standinError('projection operators are not reproduced');
  }
  const rest = entries.filter(([k]) => k !== '_id');
  const includes = rest.filter(([, v]) => v === 1);
  const excludes = rest.filter(([, v]) => v === 0);
  if (includes.length && excludes.length) {
    throw badQuery(`Cannot do exclusion on field ${excludes[0][0]} in inclusion projection`);
  }
  const idSetting = projection._id;
  if (includes.length) {
    const out = {};
    if (idSetting !== 0 && doc._id !== undefined) out._id = doc._id;
    const copyPath = (source, target, parts) => {
      const [head, ...tail] = parts;
      if (!isPlainObject(source) || !Object.prototype.hasOwnProperty.call(source, head)) return;
      if (tail.length === 0) {
        target[head] = clone(source[head]);
        return;
      }
      const inner = source[head];
      if (Array.isArray(inner)) {
        target[head] = Array.isArray(target[head]) ? target[head] : [];
        inner.forEach((element, i) => {
          if (!isPlainObject(element)) return;
          target[head][i] = target[head][i] || {};
          copyPath(element, target[head][i], tail);
        });
        target[head] = target[head].filter((x) => x !== undefined);
      } else if (isPlainObject(inner)) {
        target[head] = isPlainObject(target[head]) ? target[head] : {};
        copyPath(inner, target[head], tail);
      }
    };
    for (const [path] of includes) copyPath(doc, out, path.split('.'));
    return out;
  }
  const out = clone(doc);
  if (idSetting === 0) delete out._id;
  const dropPath = (target, parts) => {
    const [head, ...tail] = parts;
    if (Array.isArray(target)) {
      target.forEach((element) => dropPath(element, parts));
      return;
    }
    if (!isPlainObject(target) || !Object.prototype.hasOwnProperty.call(target, head)) return;
    if (tail.length === 0) delete target[head];
    else dropPath(target[head], tail);
  };
  for (const [path] of excludes) dropPath(out, path.split('.'));
  return out;
}

function sortDocs(docs, order) {
  const keys = Object.entries(order || {});
  if (keys.length === 0) return docs;
  const first = (doc, path) => {
    const values = resolvePath(doc, path).filter((v) => v !== MISSING);
    return values.length ? values[0] : null;
  };
  return docs
    .map((doc, index) => ({ doc, index }))
    .sort((a, b) => {
      for (const [path, direction] of keys) {
        const c = compare(first(a.doc, path), first(b.doc, path));
        if (c) return direction === -1 ? -c : c;
      }
      return a.index - b.index;
    })
    .map((x) => x.doc);
}

// ----------------------------------------------------------------------------------------------
// Server: storage, MVCC snapshots, locks, transactions, injected failures.
function currentDoc(entry) {
  return entry.versions[entry.versions.length - 1].doc;
}

function snapshotDoc(entry, snapshot) {
  for (let i = entry.versions.length - 1; i >= 0; i--) {
    if (entry.versions[i].seq <= snapshot) return entry.versions[i].doc;
  }
  return null;
}

function prune(collection, key) {
  const s = state();
  const entry = collection.get(key);
  if (!entry) return;
  const active = [...s.transactions.values()].filter((t) => t.status === 'active');
  if (active.length === 0) {
    entry.versions = [entry.versions[entry.versions.length - 1]];
  } else {
    const oldest = Math.min(...active.map((t) => t.snapshot));
    let keepFrom = 0;
    for (let i = 0; i < entry.versions.length; i++)
      if (entry.versions[i].seq <= oldest) keepFrom = i;
    entry.versions = entry.versions.slice(keepFrom);
  }
  if (entry.versions.length === 1 && entry.versions[0].doc === null) collection.delete(key);
}

function pruneAll() {
  for (const collections of state().envs.values()) {
    for (const collection of collections.values()) {
      for (const key of [...collection.keys()]) prune(collection, key);
    }
  }
}

/** Commits one document version outside any transaction (caller holds no await in between). */
function commitDoc(collection, id, doc) {
  const s = state();
  const key = idKey(id);
  let entry = collection.get(key);
  if (!entry) {
    entry = { id, versions: [{ seq: 0, doc: null }] };
    collection.set(key, entry);
  }
  s.seq += 1;
  entry.versions.push({ seq: s.seq, doc });
  prune(collection, key);
}

/** "普通的更新操作会被阻塞，直到事务锁释放或者超时" (DOC.transactionGuide). */
async function waitUnlocked(key) {
  // state() each time: a reset() in between replaces the state and wakes every waiter.
  while (state().locks.has(key)) {
    await new Promise((resolve) => {
      const s = state();
      const list = s.waiters.get(key) || [];
      list.push(resolve);
      s.waiters.set(key, list);
    });
  }
}

function releaseLocks(txn) {
  const s = state();
  for (const key of txn.locks) {
    if (s.locks.get(key) === txn.id) s.locks.delete(key);
    const list = s.waiters.get(key);
    if (list) {
      s.waiters.delete(key);
      for (const resolve of list) resolve();
    }
  }
  txn.locks.clear();
}

function endTransaction(txn, status) {
  txn.status = status;
  if (txn.timer) clearTimeout(txn.timer);
  releaseLocks(txn);
  pruneAll();
}

function noSuchTransaction(txn) {
  return serverError(
    'DATABASE_REQUEST_FAILED',
    `[FailedOperation] (NoSuchTransaction) Transaction ${txn ? txn.id : ''} is not active (${txn ? txn.status : 'unknown'})`,
  );
}

function activeTransaction(id, env) {
  const txn = state().transactions.get(id);
  if (!txn || txn.status !== 'active' || txn.env !== env) throw noSuchTransaction(txn);
  return txn;
}

function txnRead(txn, collectionName, id) {
  const fk = `${collectionName}\0${idKey(id)}`;
  if (txn.writes.has(fk)) return txn.writes.get(fk).doc;
  const entry = requireCollection(txn.env, collectionName).get(idKey(id));
  return entry ? snapshotDoc(entry, txn.snapshot) : null;
}

/** "写操作会给对象加上事务锁; 其他事务的写入会直接失败" (DOC.transactionGuide). */
function txnWrite(txn, collectionName, id, doc) {
  const s = state();
  const collection = requireCollection(txn.env, collectionName);
  const lk = lockKey(txn.env, collectionName, id);
  const holder = s.locks.get(lk);
  const entry = collection.get(idKey(id));
  const latestSeq = entry ? entry.versions[entry.versions.length - 1].seq : 0;
  if ((holder && holder !== txn.id) || latestSeq > txn.snapshot) {
    // MongoDB aborts the transaction on a write conflict.
    endTransaction(txn, 'aborted');
    throw serverError('DATABASE_TRANSACTION_CONFLICT', MSG.conflict);
  }
  s.locks.set(lk, txn.id);
  txn.locks.add(lk);
  txn.writes.set(`${collectionName}\0${idKey(id)}`, { collectionName, id, doc });
}

function takeFailure(api, collectionName) {
  const s = state();
  const index = s.failures.findIndex(
    (f) =>
      f.remaining > 0 &&
      (!f.api || f.api === api) &&
      (!f.collection || f.collection === collectionName),
  );
  if (index < 0) return undefined;
  const failure = s.failures[index];
  failure.remaining -= 1;
  if (failure.remaining <= 0) s.failures.splice(index, 1);
  s.counters.failuresInjected += 1;
  return failure;
}

function failureError(failure) {
  // Shapes the real client produces (source: @cloudbase/node-sdk utils/request-core.ts onTimeout,
  // tcbapirequester.ts non-200 answers, and the service's { code, message } answers).
  switch (failure.kind) {
    case 'timeout': {
      const e = new Error('request timeout');
      e.code = 'ESOCKETTIMEDOUT';
      return e;
    }
    case 'network': {
      const e = new Error('socket hang up');
      e.code = 'ECONNRESET';
      return e;
    }
    case 'http':
      return serverError(502, '502 Bad Gateway | [https://tcb-api.tencentcloudapi.com/admin]');
    case 'server':
      return serverError(failure.code || 'SYS_ERR', failure.message || 'system error');
    default:
      throw new Error(`wx-server-sdk stand-in: unknown failure kind ${failure.kind}`);
  }
}

/**
 * One call to the service: it leaves on a later tick, may meet an injected failure, runs `work`
 * (which does its atomic steps without awaiting in between), and its answer arrives on a later
 * tick. `work` may await lock releases between atomic steps.
 */
async function call(api, collectionName, work) {
  const s = state();
  s.counters.requests += 1;
  await tick();
  const failure = takeFailure(api, collectionName);
  if (failure && !failure.applied) {
    await tick();
    throw failureError(failure);
  }
  const result = await work(serverNow());
  await tick();
  if (failure) throw failureError(failure);
  return result;
}

function newDocId() {
  return randomBytes(16).toString('hex');
}

function prepareNewDoc(data, now, id) {
  if (!isPlainObject(data)) throw serverError('INVALID_PARAM', '[stand-in] data must be an object');
  if (id !== null && typeof id === 'object') throw standinError('_id must be a string or number');
  const { _id: _given, ...rest } = materialize(data, now);
  return { _id: id, ...rest };
}

function duplicateKey(env, collectionName, id) {
  return writeError(
    `E11000 duplicate key error collection: ${env}.${collectionName} index: _id_ dup key: { : ${render(id)} }`,
  );
}

const server = {
  async insert(env, collectionName, docs, txnId) {
    const ids = [];
    for (const data of docs) {
      const given = isPlainObject(data) ? data._id : undefined;
      const id = given === undefined ? newDocId() : given;
      if (txnId) {
        const txn = activeTransaction(txnId, env);
        const now = serverNow();
        if (txnRead(txn, collectionName, id)) {
          throw duplicateKey(env, collectionName, id);
        }
        txnWrite(txn, collectionName, id, prepareNewDoc(data, now, id));
      } else {
        await waitUnlocked(lockKey(env, collectionName, id));
        const collection = requireCollection(env, collectionName);
        const entry = collection.get(idKey(id));
        if (entry && currentDoc(entry)) throw duplicateKey(env, collectionName, id);
        commitDoc(collection, id, prepareNewDoc(data, serverNow(), id));
      }
      ids.push(id);
    }
    return ids;
  },

  findById(env, collectionName, id, projection, txnId) {
    let doc;
    if (txnId) {
      doc = txnRead(activeTransaction(txnId, env), collectionName, id);
    } else {
      const entry = requireCollection(env, collectionName).get(idKey(id));
      doc = entry ? currentDoc(entry) : null;
    }
    return doc ? [project(clone(doc), projection)] : [];
  },

  find(env, collectionName, filter, options, now) {
    const collection = requireCollection(env, collectionName);
    const prepared = prepareQueryValue(filter || {}, now);
    const matched = [];
    for (const entry of collection.values()) {
      const doc = currentDoc(entry);
      if (doc && matchDoc(doc, prepared)) matched.push(doc);
    }
    const sorted = sortDocs(matched, options.order);
    const offset = options.offset || 0;
    if (offset < 0 || options.limit < 0)
      throw standinError('negative skip/limit is not reproduced');
    return sorted
      .slice(offset, offset + options.limit)
      .map((doc) => project(clone(doc), options.projection));
  },

  count(env, collectionName, filter, now) {
    const collection = requireCollection(env, collectionName);
    const prepared = prepareQueryValue(filter || {}, now);
    let total = 0;
    for (const entry of collection.values()) {
      const doc = currentDoc(entry);
      if (doc && matchDoc(doc, prepared)) total += 1;
    }
    return total;
  },

  /** doc.update (upsert false) and doc.set (replace, upsert true). */
  async modifyById(env, collectionName, id, change, txnId) {
    if (txnId) {
      const txn = activeTransaction(txnId, env);
      const now = serverNow();
      const current = txnRead(txn, collectionName, id);
      if (change.replace) {
        const doc = { _id: id, ...materialize(change.replace, now) };
        const updated = current && !equal(current, doc) ? 1 : 0;
        txnWrite(txn, collectionName, id, doc);
        return { updated, upsertedId: current ? undefined : id };
      }
      if (!current) return { updated: 0 };
      const { doc, changed } = applyUpdate(current, change.update, now);
      if (changed) txnWrite(txn, collectionName, id, doc);
      return { updated: changed ? 1 : 0 };
    }
    await waitUnlocked(lockKey(env, collectionName, id));
    const collection = requireCollection(env, collectionName);
    const now = serverNow();
    const entry = collection.get(idKey(id));
    const current = entry ? currentDoc(entry) : null;
    if (change.replace) {
      const doc = { _id: id, ...materialize(change.replace, now) };
      const updated = current && !equal(current, doc) ? 1 : 0;
      if (!current || updated) commitDoc(collection, id, doc);
      return { updated, upsertedId: current ? undefined : id };
    }
    if (!current) return { updated: 0 };
    const { doc, changed } = applyUpdate(current, change.update, now);
    if (changed) commitDoc(collection, id, doc);
    return { updated: changed ? 1 : 0 };
  },

  async removeById(env, collectionName, id, txnId) {
    if (txnId) {
      const txn = activeTransaction(txnId, env);
      if (!txnRead(txn, collectionName, id)) return 0;
      txnWrite(txn, collectionName, id, null);
      return 1;
    }
    await waitUnlocked(lockKey(env, collectionName, id));
    const collection = requireCollection(env, collectionName);
    const entry = collection.get(idKey(id));
    if (!entry || !currentDoc(entry)) return 0;
    commitDoc(collection, id, null);
    return 1;
  },

  /** where().update / where().remove: matched once, then one atomic step per document. */
  async modifyWhere(env, collectionName, filter, multi, change) {
    const now = serverNow();
    const prepared = prepareQueryValue(filter, now);
    const candidates = [];
    for (const entry of requireCollection(env, collectionName).values()) {
      const doc = currentDoc(entry);
      if (doc && matchDoc(doc, prepared)) candidates.push(entry.id);
    }
    let count = 0;
    for (const id of candidates) {
      await waitUnlocked(lockKey(env, collectionName, id));
      const collection = requireCollection(env, collectionName);
      const entry = collection.get(idKey(id));
      const current = entry ? currentDoc(entry) : null;
      if (!current || !matchDoc(current, prepareQueryValue(filter, serverNow()))) continue;
      if (change.remove) {
        commitDoc(collection, id, null);
        count += 1;
      } else {
        const { doc, changed } = applyUpdate(current, change.update, serverNow());
        if (changed) {
          commitDoc(collection, id, doc);
          count += 1;
        }
      }
      if (!multi) break;
      await tick();
    }
    return count;
  },

  startTransaction(env) {
    const s = state();
    const id = `standin-txn-${requestId()}`;
    const txn = {
      id,
      env,
      snapshot: s.seq,
      writes: new Map(),
      locks: new Set(),
      status: 'active',
      timer: undefined,
    };
    txn.timer = setTimeout(() => {
      if (txn.status === 'active') endTransaction(txn, 'expired');
    }, s.transactionLifetimeMs);
    if (typeof txn.timer.unref === 'function') txn.timer.unref();
    s.transactions.set(id, txn);
    return id;
  },

  commit(env, txnId) {
    const s = state();
    const txn = activeTransaction(txnId, env);
    s.seq += 1;
    for (const { collectionName, id, doc } of txn.writes.values()) {
      const collection = requireCollection(env, collectionName);
      const key = idKey(id);
      let entry = collection.get(key);
      if (!entry) {
        entry = { id, versions: [{ seq: 0, doc: null }] };
        collection.set(key, entry);
      }
      entry.versions.push({ seq: s.seq, doc });
    }
    endTransaction(txn, 'committed');
    s.transactions.delete(txnId);
  },

  abort(env, txnId) {
    const s = state();
    const txn = s.transactions.get(txnId);
    if (!txn || txn.status !== 'active' || txn.env !== env) {
      if (txn && txn.status !== 'active') s.transactions.delete(txnId);
      throw noSuchTransaction(txn);
    }
    endTransaction(txn, 'aborted');
    s.transactions.delete(txnId);
  },
};

// ----------------------------------------------------------------------------------------------
// Commands (db.command). source: @cloudbase/database command.ts, commands/*.ts.
const UNSET = Symbol.for('wx-server-sdk-standin.database.unsetField');

class LogicCommand {
  constructor(operator, operands, fieldName) {
    this.operator = operator;
    this.operands = operands;
    this.fieldName = fieldName || UNSET;
    if (this.fieldName !== UNSET) {
      if (Array.isArray(operands)) {
        this.operands = operands.map((q) =>
          internalKind(q) === 'logic' || internalKind(q) === 'query'
            ? q._setFieldName(this.fieldName)
            : q,
        );
      } else if (internalKind(operands) === 'logic' || internalKind(operands) === 'query') {
        this.operands = operands._setFieldName(this.fieldName);
      }
    }
  }

  get [BRAND]() {
    return 'logic';
  }

  _setFieldName(fieldName) {
    const operands = this.operands.map((o) =>
      internalKind(o) === 'logic' || internalKind(o) === 'query' ? o._setFieldName(fieldName) : o,
    );
    return new LogicCommand(this.operator, operands, fieldName);
  }

  and(...args) {
    const expressions = Array.isArray(args[0]) ? args[0].slice() : args;
    expressions.unshift(this);
    return new LogicCommand('and', expressions, this.fieldName);
  }

  or(...args) {
    const expressions = Array.isArray(args[0]) ? args[0].slice() : args;
    expressions.unshift(this);
    return new LogicCommand('or', expressions, this.fieldName);
  }
}

const QUERY_OPERATOR = { neq: '$ne' };

class QueryCommand extends LogicCommand {
  get [BRAND]() {
    return 'query';
  }

  _setFieldName(fieldName) {
    return new QueryCommand(this.operator, this.operands, fieldName);
  }

  toJSON() {
    if (this.operator === 'in' || this.operator === 'nin')
      return { [`$${this.operator}`]: this.operands };
    if (this.operator === 'neq') return { $ne: this.operands[0] };
    return { [`$${this.operator}`]: this.operands[0] };
  }

  eq(val) {
    return this.and(new QueryCommand('eq', [val], this.fieldName));
  }

  neq(val) {
    return this.and(new QueryCommand('neq', [val], this.fieldName));
  }

  gt(val) {
    return this.and(new QueryCommand('gt', [val], this.fieldName));
  }

  gte(val) {
    return this.and(new QueryCommand('gte', [val], this.fieldName));
  }

  lt(val) {
    return this.and(new QueryCommand('lt', [val], this.fieldName));
  }

  lte(val) {
    return this.and(new QueryCommand('lte', [val], this.fieldName));
  }

  in(list) {
    return this.and(new QueryCommand('in', list, this.fieldName));
  }

  nin(list) {
    return this.and(new QueryCommand('nin', list, this.fieldName));
  }
}

class UpdateCommand {
  constructor(operator, operands, fieldName) {
    this.operator = operator;
    this.operands = operands;
    this.fieldName = fieldName || UNSET;
  }

  get [BRAND]() {
    return 'update';
  }

  _setFieldName(fieldName) {
    return new UpdateCommand(this.operator, this.operands, fieldName);
  }
}

class ServerDate {
  constructor({ offset = 0 } = {}) {
    this.offset = offset;
  }

  get [BRAND]() {
    return 'serverDate';
  }
}

class DbRegExp {
  constructor({ regexp, options = '' } = {}) {
    if (!regexp) throw new TypeError('regexp must be a string');
    this.regexp = regexp;
    this.options = options;
  }

  get [BRAND]() {
    return 'regexp';
  }
}

function expressionsOf(args) {
  return Array.isArray(args[0]) ? args[0] : args;
}

const unsupportedCommand = (name) => () => {
  throw standinError(`db.command.${name} is not reproduced`);
};

const command = {
  eq: (val) => new QueryCommand('eq', [val]),
  neq: (val) => new QueryCommand('neq', [val]),
  lt: (val) => new QueryCommand('lt', [val]),
  lte: (val) => new QueryCommand('lte', [val]),
  gt: (val) => new QueryCommand('gt', [val]),
  gte: (val) => new QueryCommand('gte', [val]),
  in: (val) => new QueryCommand('in', val),
  nin: (val) => new QueryCommand('nin', val),
  all: (val) => new QueryCommand('all', val),
  elemMatch: (val) => new QueryCommand('elemMatch', [val]),
  exists: (val) => new QueryCommand('exists', [val]),
  size: (val) => new QueryCommand('size', [val]),
  mod(...args) {
    if (args.length === 1) return new QueryCommand('mod', [args[0]]);
    return new QueryCommand('mod', [[args[0], args[1]]]);
  },
  and: (...args) => new LogicCommand('and', expressionsOf(args)),
  or: (...args) => new LogicCommand('or', expressionsOf(args)),
  nor: (...args) => new LogicCommand('nor', expressionsOf(args)),
  not: (...args) => new LogicCommand('not', expressionsOf(args)),
  set: (val) => new UpdateCommand('set', [val]),
  remove: () => new UpdateCommand('remove', []),
  inc: (val) => new UpdateCommand('inc', [val]),
  mul: (val) => new UpdateCommand('mul', [val]),
  min: (val) => new UpdateCommand('min', [val]),
  max: (val) => new UpdateCommand('max', [val]),
  push(...args) {
    let values;
    if (isPlainObject(args[0]) && Object.prototype.hasOwnProperty.call(args[0], 'each')) {
      values = {};
      const options = args[0];
      if (options.each !== undefined) values.$each = options.each;
      if (options.position !== undefined) values.$position = options.position;
      if (options.sort !== undefined) values.$sort = options.sort;
      if (options.slice !== undefined) values.$slice = options.slice;
    } else if (Array.isArray(args[0])) {
      values = args[0];
    } else {
      values = args;
    }
    return new UpdateCommand('push', values);
  },
  pull: (values) => new UpdateCommand('pull', values),
  pullAll: (values) => new UpdateCommand('pullAll', values),
  pop: () => new UpdateCommand('pop', []),
  shift: () => new UpdateCommand('shift', []),
  unshift: (...args) => new UpdateCommand('unshift', expressionsOf(args)),
  addToSet: (values) => new UpdateCommand('addToSet', values),
  rename: unsupportedCommand('rename'),
  bit: unsupportedCommand('bit'),
  geoNear: unsupportedCommand('geoNear'),
  geoWithin: unsupportedCommand('geoWithin'),
  geoIntersects: unsupportedCommand('geoIntersects'),
  expr: unsupportedCommand('expr'),
  aggregate: new Proxy(
    {},
    {
      get: (_target, name) => unsupportedCommand(`aggregate.${String(name)}`),
    },
  ),
  project: new Proxy(
    {},
    {
      get: (_target, name) => unsupportedCommand(`project.${String(name)}`),
    },
  ),
};

// ----------------------------------------------------------------------------------------------
// Encoders. source: @cloudbase/database serializer/common.ts, query.ts, update.ts.
function isConversionRequired(val) {
  return Boolean(internalKind(val)) || typeTag(val) === 'date' || typeTag(val) === 'regexp';
}

function flatten(query, parents, visited) {
  const cloned = { ...query };
  for (const key in query) {
    if (/^\$/.test(key)) continue;
    const value = query[key];
    if (value === undefined) {
      delete cloned[key];
      continue;
    }
    if (!value) continue;
    if (isPlainObject(value) && !isConversionRequired(value)) {
      if (visited.includes(value)) throw new Error('Cannot convert circular structure to JSON');
      const child = flatten(value, [...parents, key], [...visited, value]);
      cloned[key] = child;
      let hasKeyNotCombined = false;
      for (const childKey in child) {
        if (!/^\$/.test(childKey)) {
          cloned[`${key}.${childKey}`] = child[childKey];
          delete cloned[key][childKey];
        } else {
          hasKeyNotCombined = true;
        }
      }
      if (!hasKeyNotCombined) delete cloned[key];
    }
  }
  return cloned;
}

function mergeQueryCondition(query, condition, key) {
  if (!condition[key]) delete query[key];
  for (const conditionKey in condition) {
    if (query[conditionKey]) {
      if (Array.isArray(query[conditionKey])) {
        query[conditionKey] = query[conditionKey].concat(condition[conditionKey]);
      } else if (isPlainObject(query[conditionKey]) && isPlainObject(condition[conditionKey])) {
        Object.assign(query, condition);
      } else {
        query[conditionKey] = condition[conditionKey];
      }
    } else {
      query[conditionKey] = condition[conditionKey];
    }
  }
}

function encodeQuery(query, key) {
  if (isConversionRequired(query)) {
    const kind = internalKind(query);
    if (kind === 'logic') return encodeLogicCommand(query);
    if (kind === 'query') return encodeComparisonCommand(query);
    if (typeTag(query) === 'regexp') return { [key]: sdkSerialize(query) };
    if (typeTag(query) === 'date') return { [key]: query };
    return { [key]: encodeQueryObject(query) };
  }
  if (isPlainObject(query)) return encodeQueryObject(query);
  return query;
}

function encodeLogicCommand(query) {
  const $op = `$${query.operator}`;
  switch (query.operator) {
    case 'nor':
    case 'and':
    case 'or':
      return { [$op]: query.operands.map((operand) => encodeQuery(operand, query.fieldName)) };
    case 'not': {
      const expression = query.operands[0];
      if (typeTag(expression) === 'regexp') {
        return { [query.fieldName]: { [$op]: sdkSerialize(expression) } };
      }
      return { [query.fieldName]: { [$op]: encodeQuery(expression)[query.fieldName] } };
    }
    default:
      throw standinError(`logic operator ${query.operator}`);
  }
}

function encodeComparisonCommand(query) {
  if (query.fieldName === UNSET) {
    throw new Error('Cannot encode a comparison command with unset field name');
  }
  const $op = QUERY_OPERATOR[query.operator] || `$${query.operator}`;
  if (query.operator === 'in' || query.operator === 'nin' || query.operator === 'all') {
    return { [query.fieldName]: { [$op]: sdkSerialize(query.operands) } };
  }
  return { [query.fieldName]: { [$op]: sdkSerialize(query.operands[0]) } };
}

function encodeQueryObject(query) {
  const flattened = flatten(query, [], [query]);
  for (const key in flattened) {
    const val = flattened[key];
    const kind = internalKind(val);
    if (kind === 'logic') {
      flattened[key] = val._setFieldName(key);
      mergeQueryCondition(flattened, encodeLogicCommand(flattened[key]), key);
    } else if (kind === 'query') {
      flattened[key] = val._setFieldName(key);
      mergeQueryCondition(flattened, encodeComparisonCommand(flattened[key]), key);
    } else if (kind === 'update') {
      throw standinError('an update command cannot be used in a query');
    } else if (isConversionRequired(val)) {
      flattened[key] = sdkSerialize(val);
    }
  }
  return flattened;
}

const UPDATE_OPERATOR = {
  set: '$set',
  remove: '$unset',
  inc: '$inc',
  mul: '$mul',
  min: '$min',
  max: '$max',
  push: '$push',
  unshift: '$push',
  pop: '$pop',
  shift: '$pop',
  pull: '$pull',
  pullAll: '$pullAll',
  addToSet: '$addToSet',
};

function encodeUpdateCommand(query) {
  const $op = UPDATE_OPERATOR[query.operator];
  const field = query.fieldName;
  switch (query.operator) {
    case 'remove':
      return { [$op]: { [field]: '' } };
    case 'push':
      return {
        [$op]: {
          [field]: Array.isArray(query.operands)
            ? { $each: query.operands.map((v) => sdkSerialize(v)) }
            : query.operands,
        },
      };
    case 'unshift':
      return {
        [$op]: { [field]: { $each: query.operands.map((v) => sdkSerialize(v)), $position: 0 } },
      };
    case 'pop':
      return { [$op]: { [field]: 1 } };
    case 'shift':
      return { [$op]: { [field]: -1 } };
    case 'pull':
    case 'pullAll':
    case 'addToSet':
      return { [$op]: { [field]: sdkSerialize(query.operands) } };
    default:
      // set/inc/mul/min/max: the operand goes out as is (not through serialize), so a
      // db.serverDate() inside _.set({...}) reaches the service as { offset } (DOC.commandSet).
      return { [$op]: { [field]: query.operands[0] } };
  }
}

function mergeUpdateCondition(query, condition, key) {
  if (!condition[key]) delete query[key];
  for (const conditionKey in condition) {
    if (query[conditionKey]) {
      if (Array.isArray(query[conditionKey])) {
        query[conditionKey].push(condition[conditionKey]);
      } else if (isPlainObject(query[conditionKey]) && isPlainObject(condition[conditionKey])) {
        Object.assign(query[conditionKey], condition[conditionKey]);
      } else {
        query[conditionKey] = condition[conditionKey];
      }
    } else {
      query[conditionKey] = condition[conditionKey];
    }
  }
}

/**
 * Plain nested objects are flattened into dotted $set paths (they merge into the stored
 * object); `_.set(obj)` replaces the whole field (DOC.commandSet).
 */
function encodeUpdate(data) {
  if (internalKind(data) === 'update') return encodeUpdateCommand(data);
  const flattened = flatten(data, [], [data]);
  for (const key in flattened) {
    if (/^\$/.test(key)) continue;
    const val = flattened[key];
    const kind = internalKind(val);
    if (kind === 'update') {
      flattened[key] = val._setFieldName(key);
      mergeUpdateCondition(flattened, encodeUpdateCommand(flattened[key]), key);
    } else {
      flattened[key] = sdkSerialize(val);
      mergeUpdateCondition(flattened, { $set: { [key]: flattened[key] } }, key);
    }
  }
  return flattened;
}

// ----------------------------------------------------------------------------------------------
// Argument checks of the wrapper. source: wx-server-sdk src/utils/assert.ts.
function validTypeReason(input, ref, name) {
  const inputType = typeTag(input);
  const refType = typeTag(ref);
  if (refType === 'string')
    return inputType !== ref ? `${name} should be ${ref} instead of ${inputType};` : '';
  if (inputType !== refType) return `${name} should be ${refType} instead of ${inputType}; `;
  let errors = '';
  if (inputType === 'object') {
    for (const key in ref) errors += validTypeReason(input[key], ref[key], `${name}.${key}`);
  }
  return errors;
}

function assertType(param, ref, name = 'parameter') {
  const reason = validTypeReason(param, ref, name);
  if (reason) throw new CloudSDKError({ errMsg: reason });
}

function assertObjectNotEmpty(target, name) {
  if (Object.keys(target).length === 0) {
    // ERR_CODE.SDK_API_PARAMETER_ERROR is undefined in the SDK, so errCode ends up -1.
    throw new CloudSDKError({ errCode: undefined, errMsg: `${name} must not be empty` });
  }
}

function hasUpdateCommand(objs) {
  if (typeof objs !== 'object' || objs === null) return false;
  for (const key in objs) {
    if (internalKind(objs[key]) === 'update') return true;
    if (typeof objs[key] === 'object' && hasUpdateCommand(objs[key])) return true;
  }
  return false;
}

function transformProjection(projection) {
  const out = {};
  for (const k in projection) {
    if (typeof projection[k] === 'boolean') out[k] = projection[k] === true ? 1 : 0;
    if (typeof projection[k] === 'number') out[k] = projection[k] > 0 ? 1 : 0;
    if (typeof projection[k] === 'object') out[k] = projection[k];
  }
  return out;
}

function assertInteger(param, num) {
  if (!Number.isInteger(num)) throw new Error(`${param}must be integer`);
}

function notInTransaction(api) {
  return serverError(
    'INVALID_PARAM',
    `[stand-in] ${api}: 事务中不支持批量操作（where 语句），只支持单记录操作（collection.doc, collection.add） (${DOC.transactionGuide})`,
  );
}

// ----------------------------------------------------------------------------------------------
// The wrapper classes (wx-server-sdk src/api/database/api/database/*.ts).
class Query {
  constructor(db, collectionName, txn, filter, options) {
    this._db = db;
    this._txn = txn;
    this.collectionName = collectionName;
    this._filter = filter;
    this._options = options || {};
  }

  /** A transaction's operations go to the env it started in. */
  _envName() {
    return this._txn ? this._txn._env : this._db._env();
  }

  _derive(filter, options) {
    return new Query(this._db, this.collectionName, this._txn, filter, options);
  }

  where(query) {
    // source: @cloudbase/database query.ts where(): synchronous argument checks.
    if (typeTag(query) !== 'object') throw Error('查询参数必须为对象');
    const keys = Object.keys(query);
    if (keys.length && !keys.some((k) => query[k] !== undefined)) {
      throw Error('查询参数对象值不能均为undefined');
    }
    return this._derive(wire(encodeQuery(query)), this._options);
  }

  orderBy(fieldPath, direction) {
    if (!/^[a-zA-Z0-9-_.]/.test(fieldPath)) throw new Error();
    if (direction !== 'desc' && direction !== 'asc') throw new Error('排序字符不合法');
    const order = Object.assign({}, this._options.order || {}, {
      [fieldPath]: direction === 'desc' ? -1 : 1,
    });
    return this._derive(this._filter, { ...this._options, order });
  }

  limit(max) {
    assertInteger('limit', max);
    return this._derive(this._filter, { ...this._options, limit: max });
  }

  skip(offset) {
    assertInteger('offset', offset);
    return this._derive(this._filter, { ...this._options, offset });
  }

  field(projection) {
    return this._derive(this._filter, {
      ...this._options,
      projection: transformProjection(projection),
    });
  }

  get() {
    const apiName = 'collection.get';
    return new Promise((resolve, reject) => {
      (async () => {
        if (this._txn) throw notInTransaction(apiName);
        const { limit, offset, order, projection } = this._options;
        // "云函数端：如果没有指定 limit，则默认且最多取 100 条记录" (DOC.get);
        // "limit 在云函数端默认及最大上限为 1000" (DOC.limit); source: query.ts get().
        const effectiveLimit = limit ? (limit < 1000 ? limit : 1000) : 100;
        const env = this._envName();
        const data = await call(apiName, this.collectionName, async (now) =>
          server.find(
            env,
            this.collectionName,
            this._filter,
            {
              limit: effectiveLimit,
              offset: offset || 0,
              order,
              projection: projection ? wire(projection) : undefined,
            },
            now,
          ),
        );
        resolve({ data, errMsg: `${apiName}:ok` });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }

  count() {
    const apiName = 'collection.count';
    return new Promise((resolve, reject) => {
      (async () => {
        if (this._txn) throw notInTransaction(apiName);
        const env = this._envName();
        // source: query.ts count() sends only the filter: limit/skip do not apply.
        const total = await call(apiName, this.collectionName, async (now) =>
          server.count(env, this.collectionName, this._filter, now),
        );
        resolve({ total, errMsg: `${apiName}:ok` });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }

  update(options) {
    const apiName = 'collection.update';
    return new Promise((resolve, reject) => {
      (async () => {
        assertType(options.data, 'object');
        assertObjectNotEmpty(options.data, 'options.data');
        if (this._txn) throw notInTransaction(apiName);
        if (Object.prototype.hasOwnProperty.call(options.data, '_id')) {
          throw serverError('INVALID_PARAM', '不能更新_id的值');
        }
        if (this._filter === undefined) {
          throw standinError('collection.update() without where() is not reproduced');
        }
        const update = wire(encodeUpdate(options.data));
        // "stats.updated: 成功更新的记录数量" (DOC.update); multi defaults to true (source: query.ts).
        const multi = options.multi !== false;
        const env = this._envName();
        const updated = await call(apiName, this.collectionName, async () =>
          server.modifyWhere(env, this.collectionName, this._filter, multi, { update }),
        );
        resolve({ stats: { updated: updated || 0 }, errMsg: `${apiName}:ok` });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }

  remove(options = {}) {
    const apiName = 'collection.remove';
    return new Promise((resolve, reject) => {
      (async () => {
        if (this._txn) throw notInTransaction(apiName);
        const { offset, limit, projection, order } = this._options;
        if (
          offset !== undefined ||
          limit !== undefined ||
          projection !== undefined ||
          order !== undefined
        ) {
          console.warn(
            '`offset`, `limit`, `projection`, `orderBy` are not supported in remove() operation',
          );
        }
        if (this._filter === undefined) {
          throw standinError('collection.remove() without where() is not reproduced');
        }
        const multi = options.multi !== false;
        const env = this._envName();
        const removed = await call(apiName, this.collectionName, async () =>
          server.modifyWhere(env, this.collectionName, this._filter, multi, { remove: true }),
        );
        resolve({ stats: { removed }, errMsg: `${apiName}:ok` });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }
}

class CollectionReference extends Query {
  constructor(db, collectionName, txn) {
    super(db, collectionName, txn, undefined, {});
  }

  doc(docId) {
    if (typeof docId !== 'string' && typeof docId !== 'number') {
      throw new Error('docId必须为字符串或数字');
    }
    return new DocumentReference(this._db, this, docId, this._txn, undefined);
  }

  add(options) {
    const apiName = 'collection.add';
    return new Promise((resolve, reject) => {
      (async () => {
        const data = options.data;
        const list = Array.isArray(data) ? data : [data];
        const docs = list.map((item) => {
          if (hasUpdateCommand(item)) {
            throw standinError('update commands inside add() data are not reproduced');
          }
          return wire(sdkSerialize(item));
        });
        const env = this._envName();
        const txnId = this._txn ? this._txn._activeId() : undefined;
        // "如果传入的记录对象没有 _id 字段，则由后台自动生成 _id；若指定了 _id，则不能与已有记录冲突"
        // (DOC.add).
        const ids = await call(apiName, this.collectionName, () =>
          server.insert(env, this.collectionName, docs, txnId),
        );
        if (Array.isArray(data)) resolve({ _ids: ids, errMsg: `${apiName}:ok` });
        else resolve({ _id: ids[0], errMsg: `${apiName}:ok` });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }

  aggregate() {
    throw standinError('aggregate() is not reproduced');
  }

  watch() {
    throw standinError('watch() is not reproduced');
  }
}

class DocumentReference {
  constructor(db, collection, docId, txn, projection) {
    this._db = db;
    this._txn = txn;
    this._projection = projection;
    this._id = docId;
    this.collection = collection;
  }

  _envName() {
    return this._txn ? this._txn._env : this._db._env();
  }

  field(object) {
    if (object === undefined || object === null) {
      throw new CloudSDKError({ errMsg: 'parameter object of function field must be provided' });
    }
    assertType(object, 'object', 'field');
    return new DocumentReference(
      this._db,
      this.collection,
      this._id,
      this._txn,
      transformProjection(object),
    );
  }

  get() {
    const apiName = 'document.get';
    return new Promise((resolve, reject) => {
      (async () => {
        // "默认情况下，如果获取不到记录，方法会抛出异常 ... throwOnNotFound 为 false" (DOC.docGet,
        // DOC.database); source: document.ts get().
        const throwOnNotFound = this._db._throwOnNotFound();
        const env = this._envName();
        const txnId = this._txn ? this._txn._activeId() : undefined;
        const projection = this._projection ? wire(this._projection) : undefined;
        const list = await call(apiName, this.collection.collectionName, async () =>
          server.findById(env, this.collection.collectionName, this._id, projection, txnId),
        );
        if (!list.length) {
          if (throwOnNotFound) throw `document with _id ${this._id} does not exist`;
          resolve({ data: null, errMsg: `${apiName}:ok` });
          return;
        }
        resolve({ data: list[0], errMsg: `${apiName}:ok` });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }

  set(options) {
    const apiName = 'document.set';
    return new Promise((resolve, reject) => {
      (async () => {
        assertType(options, { data: 'object' });
        assertObjectNotEmpty(options.data, 'options.data');
        const data = options.data;
        if (!this._id) throw serverError('INVALID_PARAM', 'docId不能为空');
        if (Object.prototype.hasOwnProperty.call(data, '_id')) {
          throw serverError('INVALID_PARAM', '不能更新_id的值');
        }
        if (hasUpdateCommand(data)) {
          throw serverError('DATABASE_REQUEST_FAILED', 'update operator complicit');
        }
        const replace = wire(sdkSerialize(data));
        const env = this._envName();
        const txnId = this._txn ? this._txn._activeId() : undefined;
        const result = await call(apiName, this.collection.collectionName, () =>
          server.modifyById(env, this.collection.collectionName, this._id, { replace }, txnId),
        );
        // "created: 若指定的 _id 已存在则为 0，否则为 1" (DOC.docSet). Inside a transaction the
        // SDK answers `upserted` instead of `upsertedId`, so the wrapper reports created: 0.
        resolve({
          _id: this._id,
          errMsg: `${apiName}:ok`,
          stats: {
            updated: result.updated,
            created: !txnId && result.upsertedId !== undefined ? 1 : 0,
          },
        });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }

  update(options) {
    const apiName = 'document.update';
    return new Promise((resolve, reject) => {
      (async () => {
        assertType(options, { data: 'object' });
        assertObjectNotEmpty(options.data, 'options.data');
        if (Object.prototype.hasOwnProperty.call(options.data, '_id')) {
          throw serverError('INVALID_PARAM', '不能更新_id的值');
        }
        const update = wire(encodeUpdate(options.data));
        const env = this._envName();
        const txnId = this._txn ? this._txn._activeId() : undefined;
        const result = await call(apiName, this.collection.collectionName, () =>
          server.modifyById(env, this.collection.collectionName, this._id, { update }, txnId),
        );
        // "updated: 成功更新的记录数量，在此只可能会是 0 或 1" (DOC.update).
        resolve({ stats: { updated: result.updated }, errMsg: `${apiName}:ok` });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }

  remove() {
    const apiName = 'document.remove';
    return new Promise((resolve, reject) => {
      (async () => {
        const env = this._envName();
        const txnId = this._txn ? this._txn._activeId() : undefined;
        const deleted = await call(apiName, this.collection.collectionName, () =>
          server.removeById(env, this.collection.collectionName, this._id, txnId),
        );
        resolve({ stats: { removed: deleted || 0 }, errMsg: `${apiName}:ok` });
      })().catch((err) => reject(dataError(err, apiName)));
    });
  }
}

/**
 * The node-level transaction of @cloudbase/database (transaction/index.ts) and the wrapper of
 * wx-server-sdk (transaction/transaction.ts) in one: errors of init/commit/rollback are the
 * service's raw TcbError (the wrapper's try/catch does not await, so it never converts them).
 */
class Transaction {
  constructor(db) {
    this._db = db;
    this._env = db._env();
    this._id = undefined;
    this.aborted = false;
    this.abortReason = undefined;
    this.commited = false;
    this.inited = false;
  }

  async init() {
    this._id = await call('transaction.start', undefined, async () =>
      server.startTransaction(this._env),
    );
    this.inited = true;
  }

  _activeId() {
    return this._id;
  }

  collection(collName) {
    if (!collName) throw new Error('Collection name is required');
    return new CollectionReference(this._db, collName, this);
  }

  async commit() {
    try {
      await call('transaction.commit', undefined, async () => server.commit(this._env, this._id));
    } catch (error) {
      // A conflict reported by commit means the service aborted the transaction (only an
      // injected failure produces one here: conflicts surface on the writes themselves).
      const txn = state().transactions.get(this._id);
      if (
        error &&
        error.code === 'DATABASE_TRANSACTION_CONFLICT' &&
        txn &&
        txn.status === 'active'
      ) {
        endTransaction(txn, 'aborted');
      }
      throw error;
    }
    this.commited = true;
    return { requestId: requestId() };
  }

  async rollback(customRollbackRes) {
    await call('transaction.rollback', undefined, async () => server.abort(this._env, this._id));
    this.aborted = true;
    this.abortReason = customRollbackRes;
    return { requestId: requestId() };
  }
}

/** source: @cloudbase/database transaction/index.ts runTransaction, line for line. */
async function runTransaction(db, callback, times = 3) {
  let transaction;
  try {
    transaction = new Transaction(db);
    await transaction.init();
    const callbackRes = await callback(transaction);
    if (transaction.aborted === true) throw transaction.abortReason;
    await transaction.commit();
    return callbackRes;
  } catch (error) {
    if (transaction.inited === false) throw error;
    const throwWithRollback = async (err) => {
      if (!transaction.aborted && !transaction.commited) {
        try {
          await transaction.rollback();
        } catch {
          // the SDK ignores a failed implicit rollback
        }
        throw err;
      }
      if (transaction.aborted === true) throw transaction.abortReason;
      throw err;
    };
    if (times <= 0) await throwWithRollback(error);
    // "只有事务冲突时会重试，其他异常时不会重试" (DOC.runTransaction): the SDK checks error.code.
    if (error && error.code === 'DATABASE_TRANSACTION_CONFLICT') {
      return await runTransaction(db, callback, times - 1); // the SDK's --times
    }
    await throwWithRollback(error);
  }
}

function createDatabaseApi({ isInitialized, getCloudConfig, dynamicCurrentEnv }) {
  function resolveEnv(env) {
    if (env === dynamicCurrentEnv) return process.env.TCB_ENV || process.env.SCF_NAMESPACE || '';
    if (env && typeof env === 'object') return resolveEnv(env.database ?? env.default);
    return env === undefined || env === null ? '' : String(env);
  }

  class Database {
    constructor(config = {}) {
      this.config = config;
      this.command = command;
      this.serverDate = (options) => new ServerDate(options);
      this.RegExp = (options) => new DbRegExp(options);
      this.Geo = new Proxy(
        {},
        {
          get: (_target, name) => unsupportedCommand(`Geo.${String(name)}`),
        },
      );
      this.runTransaction = (run, retryTimes) => runTransaction(this, run, retryTimes);
    }

    _env() {
      const env = this.config.env !== undefined ? this.config.env : getCloudConfig().env;
      return resolveEnv(env);
    }

    _throwOnNotFound() {
      if (Object.prototype.hasOwnProperty.call(this.config, 'throwOnNotFound')) {
        return Boolean(this.config.throwOnNotFound);
      }
      const cloudConfig = getCloudConfig();
      if (Object.prototype.hasOwnProperty.call(cloudConfig, 'throwOnNotFound')) {
        return Boolean(cloudConfig.throwOnNotFound);
      }
      return true;
    }

    collection(collectionName) {
      if (!collectionName) throw new Error('Collection name is required');
      return new CollectionReference(this, collectionName, undefined);
    }

    async startTransaction() {
      const transaction = new Transaction(this);
      await transaction.init();
      return transaction;
    }

    async createCollection(collectionName) {
      const apiName = 'createCollection';
      try {
        const env = this._env();
        await call(apiName, collectionName, async () => {
          const collections = envCollections(env);
          if (collections.has(collectionName)) {
            throw serverError('DATABASE_COLLECTION_ALREADY_EXIST', MSG.collectionExists);
          }
          collections.set(collectionName, new Map());
        });
        return { errMsg: `${apiName}:ok`, requestId: requestId() };
      } catch (e) {
        // source: database.ts createCollection converts without maybeTransformError, so the
        // TcbError keeps its `code` and gets errCode -1.
        throw toSDKError(e, apiName);
      }
    }
  }

  function database(config) {
    if (!isInitialized()) {
      // source: wx-server-sdk api/cloud/index.ts wrapCommonAPICheck.
      throw new CloudSDKError({
        errMsg:
          "Cloud API isn't enabled, please call init first\n" +
          '请先调用 init 完成初始化后再调用其他云 API。init 方法可传入一个对象用于设置默认配置，详见文档。',
      });
    }
    return new Database(config || {});
  }

  function controlEnv(env) {
    return env === undefined ? resolveEnv(dynamicCurrentEnv) : resolveEnv(env);
  }

  /** Test-only controls. Not part of wx-server-sdk. */
  const control = {
    /** Drops every env's data, open transaction and pending injected failure. */
    reset() {
      const previous = globalThis[SHARED_KEY];
      if (previous) {
        for (const txn of previous.transactions.values()) {
          if (txn.timer) clearTimeout(txn.timer);
        }
        for (const list of previous.waiters.values()) for (const resolve of list) resolve();
      }
      globalThis[SHARED_KEY] = freshState();
    },
    /** What the console's "新建集合" does; env defaults to the current env (TCB_ENV). */
    createCollection(name, options = {}) {
      const collections = envCollections(controlEnv(options.env));
      if (!collections.has(name)) collections.set(name, new Map());
    },
    /** Copies of the committed documents of one collection, in natural order. */
    dump(name, options = {}) {
      const collection = envCollections(controlEnv(options.env)).get(name);
      if (!collection) return undefined;
      return [...collection.values()].map(currentDoc).filter(Boolean).map(clone);
    },
    /**
     * Makes the next `count` matching calls fail. kind: 'timeout' (request timeout, the default),
     * 'network' (socket hang up), 'http' (502 answer) or 'server' (`code`/`message` from the
     * service, e.g. { code: 'DATABASE_REQUEST_FAILED' }). applied: the service did the work but
     * the answer was lost. api: 'collection.add', 'document.get', ..., 'transaction.commit'.
     */
    injectFailures(options = {}) {
      const failure = {
        kind: options.kind || 'timeout',
        remaining: options.count === undefined ? 1 : options.count,
        applied: Boolean(options.applied),
        api: options.api,
        collection: options.collection,
        code: options.code,
        message: options.message,
      };
      failureError(failure); // validates the kind
      state().failures.push(failure);
    },
    clearFailures() {
      state().failures = [];
    },
    pendingFailures() {
      return state().failures.reduce((n, f) => n + f.remaining, 0);
    },
    /** Transactions not committed or rolled back within this time are aborted (default 60 s). */
    setTransactionLifetimeMs(ms) {
      state().transactionLifetimeMs = ms;
    },
    activeTransactions() {
      return [...state().transactions.values()].filter((t) => t.status === 'active').length;
    },
    /** Moves the service's clock (serverDate) by `ms` relative to Date.now(). */
    setClockOffsetMs(ms) {
      state().clockOffsetMs = ms;
    },
    counters() {
      return { ...state().counters };
    },
  };

  return { database, control };
}

module.exports = { createDatabaseApi, TcbError, ERR_CODE, TCB_ERR_CODE };
