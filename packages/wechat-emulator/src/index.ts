export { startEmulator, buildEmulatorApp } from './server.js';
export type { EmulatorOptions, RunningEmulator } from './server.js';
export { EmulatorControl, startEmulatorProcess } from './control-client.js';
export type {
  EmulatorProcess,
  EncryptedUserInfo,
  FaultSpec,
  MintedLoginCodes,
} from './control-client.js';
export { encryptOpenData, signRawData } from './open-data.js';
export { DEVTOOLS_MOCK_CODE, EmulatorState, devtoolsOpenid } from './state.js';
export { encryptPushMessage } from './push.js';
export type { PushConfig, PushDelivery, PushFormat, PushMode, PushRequest } from './push.js';
export type { MediaCheck, Suggest } from './content-security.js';
