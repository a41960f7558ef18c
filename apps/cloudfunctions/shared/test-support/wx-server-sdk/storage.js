'use strict';
// Cloud storage for the wx-server-sdk stand-in: the files a mini-program uploaded
// (wx.cloud.uploadFile; a test puts them with __standin.files.put), cloud.getTempFileURL and
// cloud.deleteFile.
//
// Reproduced from the docs:
// - getTempFileURL takes 1 to 50 file IDs, each a string or { fileID, maxAge }, and answers each
//   on its own ({ fileID, tempFileURL, status, errMsg }, status 0 for a link) instead of throwing;
//   a link is an https-like URL that downloads the file until maxAge (default a day, at most a
//   day) runs out. Here the link is http on 127.0.0.1, so the emulator's image check downloads it
//   as WeChat downloads the real one.
// - deleteFile answers per file too; a deleted file's links stop working.
// - Both reject when init() was not called, as the SDK does.
// Not reproduced: storage permissions (security rules), public-read files whose links never
// expire, CDN caching, the exact errMsg of a missing file ('STORAGE_FILE_NONEXIST' is assumed).
// @see https://developers.weixin.qq.com/miniprogram/dev/wxcloudservice/wxcloud/reference-sdk-api/storage/Cloud.getTempFileURL.md
// @see https://developers.weixin.qq.com/minigame/dev/wxcloudrun/src/development/storage/miniapp/gettempurl.md

const { createServer } = require('node:http');
const { randomBytes } = require('node:crypto');

const MAX_FILES = 50;
const DAY_SECONDS = 86_400;

// Shared by every copy of this module in the process (each loaded function has its own copy),
// as one environment's storage is.
const KEY = Symbol.for('wx-server-sdk-standin.storage');
function state() {
  globalThis[KEY] ??= { files: new Map(), links: new Map(), deleted: [], server: undefined };
  return globalThis[KEY];
}

/** The HTTP server behind the temporary links, started on first use; never keeps node alive. */
function origin() {
  const s = state();
  s.server ??= new Promise((resolve, reject) => {
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const link = s.links.get(url.searchParams.get('sign') ?? '');
      const file = link && Date.now() < link.expiresAt ? s.files.get(link.fileID) : undefined;
      if (!file) {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      response.writeHead(200, { 'content-type': file.contentType }).end(file.bytes);
    });
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve(`http://127.0.0.1:${server.address().port}`);
    });
  });
  return s.server;
}

function checkList(api, fileList, CloudSDKError) {
  if (!Array.isArray(fileList) || fileList.length === 0 || fileList.length > MAX_FILES)
    throw new CloudSDKError(-501007, `${api}:fail fileList must be 1 to 50 file IDs`);
}

function createStorageApi({ requireInit, CloudSDKError }) {
  async function getTempFileURL(option) {
    requireInit('getTempFileURL');
    const fileList = option?.fileList;
    checkList('getTempFileURL', fileList, CloudSDKError);
    const base = await origin();
    return {
      fileList: fileList.map((item) => {
        const fileID = typeof item === 'string' ? item : item?.fileID;
        const maxAge = Math.min(
          typeof item === 'object' && typeof item?.maxAge === 'number' ? item.maxAge : DAY_SECONDS,
          DAY_SECONDS,
        );
        if (typeof fileID !== 'string' || !state().files.has(fileID))
          return { fileID, tempFileURL: '', status: -1, errMsg: 'STORAGE_FILE_NONEXIST' };
        const sign = randomBytes(12).toString('hex');
        state().links.set(sign, { fileID, expiresAt: Date.now() + maxAge * 1000 });
        const path = fileID.replace(/^cloud:\/\/[^/]+/, '');
        return {
          fileID,
          tempFileURL: `${base}${path}?sign=${sign}&t=${Math.floor(Date.now() / 1000) + maxAge}`,
          maxAge,
          status: 0,
          errMsg: 'ok',
        };
      }),
      errMsg: 'getTempFileURL:ok',
    };
  }

  // An ID of another environment or not a cloud:// ID is answered with a non-zero status, not an
  // exception; a cloud:// ID is deleted (whether or not a test put it) and recorded.
  async function deleteFile(option) {
    requireInit('deleteFile');
    const fileList = option?.fileList;
    checkList('deleteFile', fileList, CloudSDKError);
    return {
      fileList: fileList.map((fileID) => {
        const ok = typeof fileID === 'string' && fileID.startsWith('cloud://');
        if (!ok) return { fileID, status: -503003, errMsg: 'invalid fileID' };
        state().files.delete(fileID);
        state().deleted.push(fileID);
        return { fileID, status: 0, errMsg: 'ok' };
      }),
      errMsg: 'deleteFile:ok',
    };
  }

  const control = {
    /** What wx.cloud.uploadFile does on the phone: the file is now in storage under this ID. */
    put(fileID, bytes, contentType = 'image/png') {
      state().files.set(fileID, { bytes: Buffer.from(bytes), contentType });
    },
    has: (fileID) => state().files.has(fileID),
    deleted: () => [...state().deleted],
    reset() {
      state().files.clear();
      state().links.clear();
      state().deleted = [];
    },
  };

  return { getTempFileURL, deleteFile, control };
}

module.exports = { createStorageApi };
