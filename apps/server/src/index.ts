export { buildServer, BODY_LIMIT_BYTES, LOG_REDACT_PATHS, LOG_SERIALIZERS } from './app.js';
export { HTTP_STATUS } from './envelope.js';
export { PublicUrl } from './public-url.js';
export type { ServerOptions } from './app.js';
export { loadConfig, ConfigError } from './config.js';
export type { ServerConfig } from './config.js';
