export {
  buildServer,
  HTTP_STATUS,
  BODY_LIMIT_BYTES,
  LOG_REDACT_PATHS,
  LOG_SERIALIZERS,
} from './app.js';
export type { ServerOptions } from './app.js';
export { loadConfig, ConfigError } from './config.js';
export type { ServerConfig } from './config.js';
