/**
 * The part of wx-server-sdk (4.x) the functions use, typed after its index.d.ts and source
 * (the database part after wx-server-sdk 4.0.2 and @cloudbase/database 1.4.3, as the stand-in in
 * test-support/wx-server-sdk/database.js reproduces them).
 * The SDK is not installed in the workspace: the cloud installs it from the built package.json,
 * and tests load the built bundle next to a stand-in (requiring the real SDK outside the cloud
 * and calling openapi leaves an unhandled rejection that kills Node).
 */
declare module 'wx-server-sdk' {
  /** getWXContext(): the keys of WX_CONTEXT_KEYS with their WX_ prefix removed, plus ENV/SOURCE. */
  export interface WXContext {
    OPENID?: string;
    APPID?: string;
    UNIONID?: string;
    ENV?: string;
    SOURCE?: string;
    [key: string]: unknown;
  }

  export interface PhoneInfo {
    phoneNumber: string;
    purePhoneNumber: string;
    countryCode: string | number;
    watermark: { appid: string; timestamp: number };
  }

  /** openapi calls resolve camelCased WeChat answers and reject with { errCode, errMsg }. */
  export interface OpenApi {
    security: {
      msgSecCheck(param: { content: string; version: 2; scene: number; openid: string }): Promise<{
        errCode: number;
        errMsg: string;
        result: { suggest: string; label: number | string };
        traceId: string;
      }>;
      mediaCheckAsync(param: {
        mediaUrl: string;
        mediaType: 1 | 2;
        version: 2;
        scene: number;
        openid: string;
      }): Promise<{ errCode: number; errMsg: string; traceId: string }>;
    };
    phonenumber: {
      getPhoneNumber(param: {
        code: string;
        openid?: string;
      }): Promise<{ errCode: number; errMsg: string; phoneInfo: PhoneInfo }>;
    };
  }

  export const DYNAMIC_CURRENT_ENV: symbol;
  export function init(config?: {
    env?: string | symbol;
    traceUser?: boolean;
    /** Default of database().throwOnNotFound (wx-server-sdk reads it from init's config too). */
    throwOnNotFound?: boolean;
  }): void;
  export function getWXContext(): WXContext;
  export const openapi: OpenApi;
  /** Deletes cloud storage files; each answers its own status (0: deleted). */
  export function deleteFile(option: { fileList: string[] }): Promise<{
    fileList: { fileID: string; status: number; errMsg: string }[];
  }>;
  /**
   * Temporary HTTPS links to cloud storage files (at most 50; maxAge in seconds, at most a day);
   * each answers its own status (0: a link).
   * @see https://developers.weixin.qq.com/miniprogram/dev/wxcloudservice/wxcloud/reference-sdk-api/storage/Cloud.getTempFileURL.md
   */
  export function getTempFileURL(option: {
    fileList: (string | { fileID: string; maxAge?: number })[];
  }): Promise<{
    fileList: { fileID: string; tempFileURL: string; status: number; errMsg: string }[];
  }>;

  // ---- Cloud database (wx-server-sdk src/api/database, over @cloudbase/database 1.4.3) ----

  /** Throws synchronously (errCode -1) when init() has not been called. */
  export function database(config?: DatabaseConfig): Database;

  export interface DatabaseConfig {
    /** Env id; default: init's env (DYNAMIC_CURRENT_ENV = the function's own env). */
    env?: string | symbol;
    /** doc.get() of a missing document: reject (default true) or answer `{ data: null }`. */
    throwOnNotFound?: boolean;
  }

  export type DocumentId = string | number;

  /** A stored document as get() returns it: Dates come back as Date, _id is the given id. */
  export interface DocumentData {
    _id: DocumentId;
    [field: string]: unknown;
  }

  /**
   * How data calls reject: an Error whose message and errMsg are
   * "<api>:fail <errCode> <code text>. <service message>" (e.g. "collection.add:fail -502001
   * database request fail. ... E11000 duplicate key ..."), or "document.get:fail document with
   * _id X does not exist" (errCode -1). errCode: -502005 collection missing, -502001 request
   * failed (duplicate _id, write errors), -501007 invalid parameters, -501001 anything else
   * (timeouts, network, transaction conflicts). Argument assertions reject with errCode -1.
   * Transaction init/commit/rollback reject with the service's raw error instead: an Error with
   * a string `code` (e.g. 'DATABASE_TRANSACTION_CONFLICT') and `requestId`, no errCode.
   */
  export interface DatabaseError extends Error {
    errCode: number;
    errMsg: string;
    code?: string | number;
  }

  export interface ServerDate {
    readonly offset: number;
  }

  export interface DatabaseRegExp {
    readonly regexp: string;
    readonly options: string;
  }

  export interface LogicCommand {
    and(...expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    and(expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    or(...expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    or(expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
  }

  export interface QueryCommand extends LogicCommand {
    eq(val: unknown): LogicCommand;
    neq(val: unknown): LogicCommand;
    gt(val: unknown): LogicCommand;
    gte(val: unknown): LogicCommand;
    lt(val: unknown): LogicCommand;
    lte(val: unknown): LogicCommand;
    in(list: unknown[]): LogicCommand;
    nin(list: unknown[]): LogicCommand;
  }

  export interface UpdateCommand {
    readonly operator: string;
  }

  export type QueryCondition = Record<string, unknown>;

  export interface DatabaseCommand {
    eq(val: unknown): QueryCommand;
    neq(val: unknown): QueryCommand;
    gt(val: unknown): QueryCommand;
    gte(val: unknown): QueryCommand;
    lt(val: unknown): QueryCommand;
    lte(val: unknown): QueryCommand;
    in(list: unknown[]): QueryCommand;
    nin(list: unknown[]): QueryCommand;
    exists(val: boolean): QueryCommand;
    size(val: number): QueryCommand;
    all(list: unknown[]): QueryCommand;
    elemMatch(condition: QueryCondition): QueryCommand;
    mod(divisor: number, remainder: number): QueryCommand;
    and(...expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    and(expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    or(...expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    or(expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    nor(...expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    nor(expressions: (LogicCommand | QueryCondition)[]): LogicCommand;
    not(expression: LogicCommand | RegExp): LogicCommand;
    /** Replaces the whole field (a plain object in update data merges field by field). */
    set(val: unknown): UpdateCommand;
    remove(): UpdateCommand;
    inc(val: number): UpdateCommand;
    mul(val: number): UpdateCommand;
    min(val: unknown): UpdateCommand;
    max(val: unknown): UpdateCommand;
    push(...values: unknown[]): UpdateCommand;
    push(options: { each: unknown[]; position?: number; slice?: number }): UpdateCommand;
    pop(): UpdateCommand;
    shift(): UpdateCommand;
    unshift(...values: unknown[]): UpdateCommand;
    addToSet(value: unknown): UpdateCommand;
    pull(value: unknown): UpdateCommand;
    pullAll(values: unknown[]): UpdateCommand;
  }

  export interface Query {
    /** Replaces any earlier where(); nested plain objects match by dotted path. */
    where(condition: QueryCondition | LogicCommand): Query;
    orderBy(fieldPath: string, order: 'asc' | 'desc'): Query;
    /** Default 100 documents a get(), at most 1000 (limit(0) = the default). */
    limit(max: number): Query;
    skip(offset: number): Query;
    field(projection: Record<string, boolean | number>): Query;
    get(): Promise<{ data: DocumentData[]; errMsg: string }>;
    /** Counts every match: limit/skip do not apply. */
    count(): Promise<{ total: number; errMsg: string }>;
    /** `updated` counts documents actually changed. Atomic per document only. */
    update(options: {
      data: Record<string, unknown>;
      multi?: boolean;
    }): Promise<{ stats: { updated: number }; errMsg: string }>;
    remove(options?: { multi?: boolean }): Promise<{ stats: { removed: number }; errMsg: string }>;
  }

  export interface CollectionReference extends Query {
    readonly collectionName: string;
    doc(docId: DocumentId): DocumentReference;
    /** Generates a string _id unless data has one; a taken _id rejects (-502001, E11000). */
    add(options: { data: Record<string, unknown> }): Promise<{ _id: DocumentId; errMsg: string }>;
    add(options: {
      data: Record<string, unknown>[];
    }): Promise<{ _ids: DocumentId[]; errMsg: string }>;
  }

  export interface DocumentReference {
    readonly _id: DocumentId;
    readonly collection: CollectionReference;
    field(projection: Record<string, boolean | number>): DocumentReference;
    /** `data` is null only with throwOnNotFound: false; otherwise a missing doc rejects. */
    get(): Promise<{ data: DocumentData | null; errMsg: string }>;
    /** Creates or replaces (data must not hold _id or update commands). */
    set(options: { data: Record<string, unknown> }): Promise<{
      _id: DocumentId;
      stats: { updated: number; created: number };
      errMsg: string;
    }>;
    /** `updated`: 1 if the document changed, 0 if it is missing or the values were equal. */
    update(options: {
      data: Record<string, unknown>;
    }): Promise<{ stats: { updated: number }; errMsg: string }>;
    remove(): Promise<{ stats: { removed: number }; errMsg: string }>;
  }

  /** Only collection().doc() and collection().add() are allowed inside a transaction. */
  export interface Transaction {
    collection(name: string): CollectionReference;
    /** Only for startTransaction(); runTransaction commits by itself. */
    commit(): Promise<{ requestId: string }>;
    rollback(reason?: unknown): Promise<{ requestId: string }>;
  }

  export interface Database {
    readonly config: DatabaseConfig;
    readonly command: DatabaseCommand;
    /** The service's clock at write time (+ offset ms). */
    serverDate(options?: { offset?: number }): ServerDate;
    RegExp(options: { regexp: string; options?: string }): DatabaseRegExp;
    collection(name: string): CollectionReference;
    createCollection(name: string): Promise<{ errMsg: string; requestId: string }>;
    /**
     * Runs `callback` in a transaction and commits; rejects with what it throws, or with the
     * rollback(reason). Retried (up to `times`, default 3) only when commit reports a conflict.
     */
    runTransaction<T>(
      callback: (transaction: Transaction) => Promise<T>,
      times?: number,
    ): Promise<T>;
    startTransaction(): Promise<Transaction>;
  }
}
