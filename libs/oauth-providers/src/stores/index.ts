export { RedisTokenStore } from './redis-token.store.js';
export type { RedisTokenStoreOptions } from './redis-token.store.js';
export { createRedisConnection } from './redis-connection.js';
export type { RedisConnectionOptions } from './redis-connection.js';
export { TokenCipher, parseEncryptionKey } from './token-cipher.js';
export type { TokenCipherOptions, TokenEncryptionKey } from './token-cipher.js';
