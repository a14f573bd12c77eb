// The Redis entry point (`@oauth-gateway/oauth-providers/redis`): apart from the main one so that
// `ioredis` stays an optional peer dependency, needed only by apps that share tokens through Redis.
export { RedisTokenStore } from './stores/redis-token.store.js';
export type { RedisTokenStoreOptions } from './stores/redis-token.store.js';
export { createRedisConnection } from './stores/redis-connection.js';
export { RedisCommandHealth, commandTimeoutOf, logClientErrors } from './stores/redis-command.health.js';
export type { RedisConnectionOptions, RedisNodeAddress } from './stores/redis-connection.js';
export { TokenCipher, parseEncryptionKey } from './stores/token-cipher.js';
export type { TokenCipherOptions, TokenEncryptionKey } from './stores/token-cipher.js';
