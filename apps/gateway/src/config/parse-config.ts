import { parseCallerKeys } from './api-keys.config.js';
import { defaultMaxConnections } from './connection-limit.js';
import type { GatewayConfig } from './gateway-config.js';
import { gatewaySchema } from './gateway-schema.js';
import { readProviders } from './provider-config.js';
import { providerSecretFiles } from './provider-secret-files.js';
import { noProviderProblem, sandboxWanted, SANDBOX_DEFAULT_HOST } from './sandbox.js';
import { withSecretFiles } from './secret-files.js';
import { readTracing } from './tracing-config.js';
import { noCallerKeyProblem, startupWarnings, type ConfigReader } from './variable-registry.checks.js';
import type { z } from 'zod';
import type { Env } from './env.js';

export type { Env } from './env.js';

/** A bad configuration: one line per problem, each naming its variable, never a value; `warnings`, the start-up warnings of the same run. */
export class ConfigValidationError extends Error {
  constructor(
    readonly problems: string[],
    readonly warnings: string[] = [],
  ) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/**
 * Reads and validates the whole configuration. Throws `ConfigValidationError` listing every
 * problem at once (not only the first), so an operator fixes them in one go. `reader`: the CLIs
 * skip the checks of callers' keys (they serve no caller).
 */
export function parseGatewayConfig(rawEnv: Env, reader: ConfigReader = 'gateway'): GatewayConfig {
  const problems: string[] = [];
  const failedFiles = new Set<string>();
  const env = normalise(withSecretFiles(rawEnv, problems, failedFiles));
  const { v, bad } = parseSchema(env, problems);
  const { providers, knownProviders, named, partlyConfigured } = readProviders(env, problems);
  const { apiKeys, apiKeysFile, keysFileLimits } = parseCallerKeys(env, knownProviders, problems);
  const tracing = readTracing(env, problems);
  // A variable with a bad value had its default put in its place: no check across variables may involve it.
  const good = (...names: string[]) => names.every((name) => !bad.has(name));

  const redisWanted = v.REDIS_URL !== undefined || v.REDIS_CLUSTER_NODES !== undefined || v.REDIS_SENTINELS !== undefined;
  const production = v.NODE_ENV === 'production';
  if (v.REDIS_CLUSTER_NODES && v.REDIS_SENTINELS) {
    problems.push('REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS (pick one Redis topology)');
  }
  if (v.REDIS_SENTINELS && !v.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: required when REDIS_SENTINELS is set');
  if (v.TOKEN_ENCRYPTION_PREVIOUS_KEYS && !v.TOKEN_ENCRYPTION_KEY && good('TOKEN_ENCRYPTION_KEY')) {
    problems.push('TOKEN_ENCRYPTION_PREVIOUS_KEYS: needs TOKEN_ENCRYPTION_KEY (the key that seals new entries)');
  }
  if (redisWanted && production && !v.TOKEN_ENCRYPTION_KEY && good('TOKEN_ENCRYPTION_KEY')) {
    problems.push('TOKEN_ENCRYPTION_KEY: required when Redis is configured and NODE_ENV=production (tokens are encrypted at rest)');
  }
  if (v.TOKEN_MAX_TTL_SECONDS < v.TOKEN_DEFAULT_TTL_SECONDS && good('TOKEN_MAX_TTL_SECONDS', 'TOKEN_DEFAULT_TTL_SECONDS')) {
    problems.push('TOKEN_MAX_TTL_SECONDS: must not be below TOKEN_DEFAULT_TTL_SECONDS');
  }
  if (v.ADMIN_PORT !== undefined && v.ADMIN_PORT === v.PORT)
    problems.push('ADMIN_PORT: must differ from PORT (the operator routes get a port of their own)');
  const sandboxRule = { sandbox: v.SANDBOX, production, providers };
  const noProvider = good('SANDBOX') ? noProviderProblem(sandboxRule, partlyConfigured) : undefined;
  if (noProvider) problems.push(noProvider);
  const keysGiven = env.GATEWAY_API_KEYS !== undefined || env.GATEWAY_API_KEYS_FILE !== undefined;
  if (reader === 'gateway' && production && !keysGiven && !(good('SANDBOX') && sandboxWanted(sandboxRule))) {
    problems.push(noCallerKeyProblem(rawEnv));
  }
  const warnings = startupWarnings(rawEnv, named, reader);
  if (v.CONFIG_STRICT === 'true') problems.push(...warnings.map((line) => `${line} (CONFIG_STRICT=true)`));
  // A secret whose file failed has that file's line only, not a second one saying the secret is missing.
  const reported = problems.filter((line) => !failedFiles.has(line.slice(0, line.indexOf(':'))));
  if (reported.length > 0) throw new ConfigValidationError(reported, v.CONFIG_STRICT === 'true' ? [] : warnings);

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
    warnings,
  };
}

type GatewayVariables = z.output<typeof gatewaySchema>;

/**
 * The gateway's own variables; a bad one is a problem line, and its default stands in for it
 * (listed in `bad`) so that the checks of everything else still run in this same run.
 */
function parseSchema(env: Record<string, string>, problems: string[]): { v: GatewayVariables; bad: Set<string> } {
  const parsed = gatewaySchema.safeParse(env);
  if (parsed.success) return { v: parsed.data, bad: new Set() };
  const bad = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
  for (const issue of parsed.error.issues) problems.push(`${String(issue.path[0])}: ${issue.message}`);
  const rest = Object.fromEntries(Object.entries(env).filter(([name]) => !bad.has(name)));
  return { v: gatewaySchema.parse(rest), bad };
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
