import type { Cluster, Redis } from 'ioredis';
import type { OAuthModuleOptions } from '@oauth-gateway/oauth-providers';
import type { GatewayConfig } from './gateway-config.js';
import { descriptorOf } from './providers/provider-registry.js';
import { startupSecrets, type RuntimeSecrets } from './runtime-secrets.js';
import { buildTokenStore } from './token-store.factory.js';

/** What tests may change in the OAuth module beyond the environment (fast retries, a fake clock, circuit, refresher). */
export type OAuthOverrides = Pick<OAuthModuleOptions, 'retry' | 'clock' | 'clusterWaitMs' | 'circuitBreaker' | 'refresher'>;

/**
 * Each provider's strategy as its type's descriptor builds it, its secrets read from `secrets` (by
 * default, as read at start-up);
 * `redis`: the gateway's shared connection, when it has one (see `buildTokenStore`).
 */
export function oauthOptions(
  config: GatewayConfig,
  secrets: RuntimeSecrets = startupSecrets(config.providers),
  overrides: OAuthOverrides = {},
  redis?: Redis | Cluster,
): OAuthModuleOptions {
  return {
    providers: config.providers.map((p) => descriptorOf(p.kind).strategy(p, secrets)),
    store: buildTokenStore(config, redis),
    refreshSkewSeconds: config.tokens.refreshSkewSeconds,
    requestTimeoutMs: config.tokens.requestTimeoutMs,
    defaultTtlSeconds: config.tokens.defaultTtlSeconds,
    maxTtlSeconds: config.tokens.maxTtlSeconds,
    rejectedCooldownSeconds: config.tokens.rejectedCooldownSeconds,
    minRequestIntervalMs: config.tokens.minRequestIntervalMs,
    maxTokenBytes: config.tokens.maxTokenBytes,
    // By default every enabled provider gets its token at start-up and is kept renewed in the
    // background, so callers practically never wait on a token endpoint.
    refresher: { warmOnStart: config.tokens.warmOnStart },
    ...overrides,
  };
}
