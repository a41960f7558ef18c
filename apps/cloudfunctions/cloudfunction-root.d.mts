/** Absolute path of the folder WeChat DevTools reads cloud functions from. */
export function cloudfunctionRoot(): Promise<string>;
