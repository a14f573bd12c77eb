import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { TokenStore } from '@oauth-gateway/oauth-providers';
import { createRedisConnection, logClientErrors, RedisTokenStore } from '@oauth-gateway/oauth-providers/redis';
import type { GatewayConfig } from './gateway-config.js';

/** The configured Redis, or undefined: one fail-fast connection the gateway shares (tokens, rate limits) and closes itself. */
export function connectRedis(config: GatewayConfig): Redis | Cluster | undefined {
  if (!config.redis) return undefined;
  // The addresses as gateway-schema.ts parsed them, never written back as host:port text.
  const client = createRedisConnection(config.redis);
  // Outages also show as degraded in /health/ready, /tokens and the metrics.
  logClientErrors(client, new Logger('Redis'));
  return client;
}

/**
 * The token store the OAuth module uses. `undefined` means the library's in-process store; with
 * Redis configured (one server, a Cluster or Sentinels), tokens are shared by every instance and
 * encrypted at rest with `TOKEN_ENCRYPTION_KEY` (and read with
 * `TOKEN_ENCRYPTION_PREVIOUS_KEYS` after a rotation). Given `client` (the gateway's shared
 * connection), the store uses it and leaves closing it to its owner; without, the store opens its
 * own connection and the OAuth module closes it on shutdown (the token CLI).
 */
export function buildTokenStore(config: GatewayConfig, client?: Redis | Cluster): TokenStore | undefined {
  if (!config.redis) return undefined;
  const cipher = { encryptionKey: config.tokenEncryptionKey, previousKeys: config.tokenPreviousKeys };
  return new RedisTokenStore(client ?? config.redis, cipher);
}
