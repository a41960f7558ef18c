/** The app instance every page reaches with getApp<IAppOption>(). */
// A global declaration file: a top-level import would turn it into a module, so types come in
// through import() here.
/* eslint-disable @typescript-eslint/consistent-type-imports */
interface IAppOption {
  globalData: { loginError?: string };
  auth: import('../services/auth.js').AuthService;
  privacy: import('../services/privacy.js').PrivacyGate;
}
/* eslint-enable @typescript-eslint/consistent-type-imports */

/** Event details the typings lack. */
declare namespace WxEvents {
  /** <button open-type="chooseAvatar" bindchooseavatar>: a temporary file only this phone can read. */
  type ChooseAvatar = WechatMiniprogram.CustomEvent<{ avatarUrl: string }>;
  /** <input type="nickname" bindinput/bindblur>. */
  type NicknameInput = WechatMiniprogram.CustomEvent<{ value: string }>;
  /** <input type="nickname" bindnicknamereview>: WeChat's check of the nickname (2.29.1+). */
  type NicknameReview = WechatMiniprogram.CustomEvent<{ pass: boolean; timeout: boolean }>;
  /** <form bindsubmit>: the named fields' values as WeChat hands them over. */
  type FormSubmit = WechatMiniprogram.CustomEvent<{ value: Record<string, unknown> }>;
  /** <button open-type="getPhoneNumber" bindgetphonenumber>: a code on success; errno on failure. */
  type GetPhoneNumber = WechatMiniprogram.CustomEvent<{
    code?: string;
    errMsg: string;
    errno?: number;
    encryptedData?: string;
    iv?: string;
  }>;
  /** <button open-type="getUserInfo" bindgetuserinfo> (legacy). */
  type GetUserInfo = WechatMiniprogram.CustomEvent<{
    errMsg: string;
    encryptedData?: string;
    iv?: string;
    rawData?: string;
    signature?: string;
    /** Only in a mini-program with cloud development: resolves inside a cloud function. */
    cloudID?: string;
  }>;
}
