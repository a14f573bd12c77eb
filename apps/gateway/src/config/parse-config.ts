import { parseCallerKeys } from './api-keys.config.js';
import { defaultMaxConnections } from './connection-limit.js';
import type { GatewayConfig } from './gateway-config.js';
import { gatewaySchema } from './gateway-schema.js';
import { readProviders } from './provider-config.js';
import { providerSecretFiles } from './provider-secret-files.js';
import { noProviderProblem, sandboxWanted, SANDBOX_DEFAULT_HOST } from './sandbox.js';
import { withSecretFiles } from './secret-files.js';
import { readTracing } from './tracing-config.js';
import type { Env } from './env.js';

export type { Env } from './env.js';

/** A bad configuration: one line per problem, each naming its variable, never a value. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/**
 * Reads and validates the whole configuration. Throws `ConfigValidationError` listing every
 * problem at once (not only the first), so an operator fixes them in one go.
 */
export function parseGatewayConfig(rawEnv: Env): GatewayConfig {
  const problems: string[] = [];
  const env = normalise(withSecretFiles(rawEnv, problems));
  const parsed = gatewaySchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${String(issue.path[0])}: ${issue.message}`);
  }
  const { providers, knownProviders, partlyConfigured } = readProviders(env, problems);
  const { apiKeys, apiKeysFile, keysFileLimits } = parseCallerKeys(env, knownProviders, problems);
  const tracing = readTracing(env, problems);
  if (!parsed.success) throw new ConfigValidationError(problems);
  const v = parsed.data;

  const redisWanted = v.REDIS_URL !== undefined || v.REDIS_CLUSTER_NODES !== undefined || v.REDIS_SENTINELS !== undefined;
  const production = v.NODE_ENV === 'production';
  if (v.REDIS_CLUSTER_NODES && v.REDIS_SENTINELS) {
    problems.push('REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS (pick one Redis topology)');
  }
  if (v.REDIS_SENTINELS && !v.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: required when REDIS_SENTINELS is set');
  if (v.TOKEN_ENCRYPTION_PREVIOUS_KEYS && !v.TOKEN_ENCRYPTION_KEY) {
    problems.push('TOKEN_ENCRYPTION_PREVIOUS_KEYS: needs TOKEN_ENCRYPTION_KEY (the key that seals new entries)');
  }
  if (redisWanted && production && !v.TOKEN_ENCRYPTION_KEY) {
    problems.push('TOKEN_ENCRYPTION_KEY: required when Redis is configured and NODE_ENV=production (tokens are encrypted at rest)');
  }
  if (v.TOKEN_MAX_TTL_SECONDS < v.TOKEN_DEFAULT_TTL_SECONDS) {
    problems.push('TOKEN_MAX_TTL_SECONDS: must not be below TOKEN_DEFAULT_TTL_SECONDS');
  }
  if (v.ADMIN_PORT !== undefined && v.ADMIN_PORT === v.PORT)
    problems.push('ADMIN_PORT: must differ from PORT (the operator routes get a port of their own)');
  const sandboxRule = { sandbox: v.SANDBOX, production, providers };
  const noProvider = noProviderProblem(sandboxRule, partlyConfigured);
  if (noProvider) problems.push(noProvider);
  if (problems.length > 0) throw new ConfigValidationError(problems);

  return {
    port: v.PORT,
    host: v.HOST ?? (sandboxWanted(sandboxRule) ? SANDBOX_DEFAULT_HOST : '0.0.0.0'),
    adminPort: v.ADMIN_PORT,
    adminHost: v.ADMIN_HOST,
    production,
    apiKeys,
    apiKeysFile,
    keysFileLimits,
    redis: redisWanted
      ? { url: v.REDIS_URL, clusterNodes: v.REDIS_CLUSTER_NODES, sentinels: v.REDIS_SENTINELS, sentinelName: v.REDIS_SENTINEL_NAME }
      : undefined,
    tokenEncryptionKey: v.TOKEN_ENCRYPTION_KEY,
    tokenPreviousKeys: v.TOKEN_ENCRYPTION_PREVIOUS_KEYS,
    tokens: {
      refreshSkewSeconds: v.TOKEN_REFRESH_SKEW_SECONDS,
      requestTimeoutMs: v.TOKEN_REQUEST_TIMEOUT_MS,
      defaultTtlSeconds: v.TOKEN_DEFAULT_TTL_SECONDS,
      maxTtlSeconds: v.TOKEN_MAX_TTL_SECONDS,
      rejectedCooldownSeconds: v.TOKEN_REJECTED_COOLDOWN_SECONDS,
      minRequestIntervalMs: v.TOKEN_MIN_INTERVAL_MS,
      maxTokenBytes: v.TOKEN_MAX_BYTES,
      warmOnStart: v.TOKEN_WARM_ON_START === 'true',
    },
    upstreamTimeoutMs: v.UPSTREAM_TIMEOUT_MS,
    maxInflightPerProvider: v.MAX_INFLIGHT_PER_PROVIDER,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    shutdownDelayMs: v.SHUTDOWN_DELAY_MS,
    maxConnections: v.MAX_CONNECTIONS ?? defaultMaxConnections(),
    maxBodyBytes: v.MAX_BODY_BYTES,
    clientTimeoutMs: v.CLIENT_TIMEOUT_MS,
    uploadTimeoutMs: v.UPLOAD_TIMEOUT_MS,
    maxHeaderCount: v.MAX_HEADER_COUNT,
    trustedProxies: v.TRUSTED_PROXIES ?? [],
    logLevel: v.LOG_LEVEL,
    tracing,
    sandbox: v.SANDBOX,
    providers,
    knownProviders,
    secretFiles: providerSecretFiles(rawEnv, providers),
  };
}

/** Empty values count as unset (a copied `.env.example` leaves many `NAME=` lines). */
function normalise(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const trimmed = value?.trim();
    if (trimmed) out[name] = trimmed;
  }
  return out;
}
