import type { TokenStore } from '@oauth-gateway/oauth-providers';
import { RedisTokenStore } from '@oauth-gateway/oauth-providers/redis';
import type { GatewayConfig } from './gateway-config.js';

/**
 * The token store the OAuth module uses. `undefined` means the library's in-process store; with
 * Redis configured (one server, a Cluster or Sentinels), tokens are shared by every instance and
 * encrypted at rest with `TOKEN_ENCRYPTION_KEY` (and read with
 * `TOKEN_ENCRYPTION_PREVIOUS_KEYS` after a rotation). The store owns the connection it creates and the
 * OAuth module closes it on shutdown.
 */
export function buildTokenStore(config: GatewayConfig): TokenStore | undefined {
  if (!config.redis) return undefined;
  const { url, clusterNodes, sentinels, sentinelName } = config.redis;
  return new RedisTokenStore(
    {
      url,
      // Parsed once, in parse-config.ts: handed over as addresses, never written back as host:port text.
      clusterNodes,
      sentinels,
      sentinelName,
    },
    { encryptionKey: config.tokenEncryptionKey, previousKeys: config.tokenPreviousKeys },
  );
}
