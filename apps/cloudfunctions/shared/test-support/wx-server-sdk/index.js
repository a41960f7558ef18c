'use strict';
// A stand-in for wx-server-sdk 4.x, for tests outside WeChat's cloud. It follows the real SDK:
// - getWXContext() reads the keys listed in WX_CONTEXT_KEYS from process.env, drops the WX_
//   prefix, turns all-digit values into numbers, skips blacklisted keys, adds ENV and SOURCE;
// - openapi calls resolve the camelCased WeChat answer with errCode 0 and errMsg "<api>:ok", and
//   reject with { errCode, errMsg: "<api>:fail <errmsg>" } as CloudSDKError does.
// - database() is the cloud database of ./database.js (see the list of what it reproduces there).
// - an openapi call the function's config.json does not declare (permissions.openapi) is refused
//   with errCode -604101, as the cloud does (its errMsg wording here is assumed);
// - openapi input goes through the SDK's camelCase -> snake_case conversion (mediaUrl ->
//   media_url); security.msgSecCheck / mediaCheckAsync call the emulator's content security.
// - getTempFileURL and deleteFile are the cloud storage of ./storage.js (see its list); no other
//   storage call is reproduced.
// Where the real cloud calls WeChat with the function's own app credentials, this calls the
// emulator given by WXSTANDIN_API_ORIGIN with WXSTANDIN_APPID / WXSTANDIN_SECRET.

const DYNAMIC_CURRENT_ENV = Symbol.for('DYNAMIC_CURRENT_ENV');
const WX_PREFIX = 'WX_';
const CONTEXT_KEYS_BLACKLIST = ['API_TOKEN', 'TRIGGER_API_TOKEN_V0'];

const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { createDatabaseApi } = require('./database.js');
const { createStorageApi } = require('./storage.js');

let initialized = false;
let cloudConfig = {};

/** Like the SDK's defaultInit: the first call wins, later ones are ignored. */
function init(config = {}) {
  if (initialized) return;
  initialized = true;
  cloudConfig = { ...config };
}

const databaseApi = createDatabaseApi({
  isInitialized: () => initialized,
  getCloudConfig: () => cloudConfig,
  dynamicCurrentEnv: DYNAMIC_CURRENT_ENV,
});

function getWXContext() {
  const wxContext = {};
  if (!process.env.WX_CONTEXT_KEYS) return wxContext;
  for (const key of process.env.WX_CONTEXT_KEYS.split(',')) {
    if (!key) continue;
    if (CONTEXT_KEYS_BLACKLIST.some((v) => v === key || WX_PREFIX + v === key)) continue;
    let val = process.env[key];
    if (val === undefined) continue;
    if (/^[-]?\d+$/.test(val)) val = parseInt(val);
    if (key.startsWith(WX_PREFIX) && key.length > 3) wxContext[key.slice(3)] = val;
    else wxContext[key] = val;
  }
  wxContext.ENV = process.env.TCB_ENV || process.env.SCF_NAMESPACE;
  if (process.env.TCB_SOURCE) wxContext.SOURCE = process.env.TCB_SOURCE;
  return wxContext;
}

class CloudSDKError extends Error {
  constructor(errCode, errMsg) {
    super(`errCode: ${errCode} | errMsg: ${errMsg}`);
    this.errCode = errCode;
    this.errMsg = errMsg;
  }
}

/** Renames every key of a JSON value, recursively (the SDK's convertCase, either way). */
function renameKeys(value, rename) {
  if (Array.isArray(value)) return value.map((inner) => renameKeys(inner, rename));
  if (!value || typeof value !== 'object') return value;
  const out = {};
  for (const [key, inner] of Object.entries(value)) out[rename(key)] = renameKeys(inner, rename);
  return out;
}

/** openapi output: snake_case -> camelCase. */
const camelCase = (value) =>
  renameKeys(value, (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase()));

async function wechat(path, init) {
  const origin = process.env.WXSTANDIN_API_ORIGIN;
  if (!origin) throw new Error('wx-server-sdk stand-in: WXSTANDIN_API_ORIGIN is not set');
  const response = await fetch(new URL(path, origin), init);
  return JSON.parse(await response.text());
}

/**
 * The openapi names the function's config.json declares (permissions.openapi): the cloud refuses
 * any other with -604101. The function's folder is two up from node_modules/wx-server-sdk.
 * @see https://developers.weixin.qq.com/miniprogram/dev/wxcloud/guide/openapi/openapi.html
 */
let declared;
function declaredOpenApis() {
  declared ??= readDeclaredOpenApis();
  return declared;
}

/** Read once per copy of this module: each deployed function has its own, with its config.json. */
function readDeclaredOpenApis() {
  try {
    const config = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config.json'), 'utf8'));
    const list = config?.permissions?.openapi;
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** What every cloud API does before init(): reject with -1, as the SDK does. */
function requireInit(api) {
  if (!initialized)
    throw new CloudSDKError(-1, `${api}:fail Cloud API isn't enabled, please call init first`);
}

async function callOpenApi(api, path, body) {
  requireInit(api);
  if (!declaredOpenApis().includes(api.replace(/^openapi\./, '')))
    throw new CloudSDKError(
      -604101,
      `${api}:fail -604101 function has no permission to call this API`,
    );
  const token = await wechat('/cgi-bin/stable_token', {
    method: 'POST',
    body: JSON.stringify({
      grant_type: 'client_credential',
      appid: process.env.WXSTANDIN_APPID,
      secret: process.env.WXSTANDIN_SECRET,
    }),
  });
  if (token.errcode) throw new CloudSDKError(token.errcode, `${api}:fail ${token.errmsg}`);
  const answer = await wechat(`${path}?access_token=${encodeURIComponent(token.access_token)}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  if (answer.errcode) throw new CloudSDKError(answer.errcode, `${api}:fail ${answer.errmsg}`);
  const { errcode: _errcode, errmsg: _errmsg, ...rest } = answer;
  return { ...camelCase(rest), errCode: 0, errMsg: `${api}:ok` };
}

/** openapi input: camelCase -> snake_case. */
const snakeCase = (value) =>
  renameKeys(value, (key) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));

const openapi = {
  security: {
    msgSecCheck: (param) =>
      callOpenApi('openapi.security.msgSecCheck', '/wxa/msg_sec_check', snakeCase(param)),
    mediaCheckAsync: (param) =>
      callOpenApi('openapi.security.mediaCheckAsync', '/wxa/media_check_async', snakeCase(param)),
  },
  phonenumber: {
    getPhoneNumber: (param) =>
      callOpenApi('openapi.phonenumber.getPhoneNumber', '/wxa/business/getuserphonenumber', {
        code: param.code,
        ...(param.openid === undefined ? {} : { openid: param.openid }),
      }),
  },
};

const storageApi = createStorageApi({ requireInit, CloudSDKError });

module.exports = {
  init,
  deleteFile: storageApi.deleteFile,
  getTempFileURL: storageApi.getTempFileURL,
  getWXContext,
  openapi,
  database: databaseApi.database,
  DYNAMIC_CURRENT_ENV,
  CloudSDKError,
  // Test-only, not part of wx-server-sdk: database controls shared by every copy in the process.
  __standin: {
    database: databaseApi.control,
    files: storageApi.control,
  },
};
