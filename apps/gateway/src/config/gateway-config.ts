import type { SecretFile } from './secret-file.watcher.js';
import type { ProviderConfig } from './providers/provider-registry.js';
import type { TracingConfig } from './tracing-config.js';
import type { RateLimitPolicy } from './rate-limit.policy.js';

export type { ProviderConfig } from './providers/provider-registry.js';

/** The gateway's whole configuration, parsed and validated from the environment (README, "Configuration"). */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A caller: its name and the SHA-256 of its key (a plain key is hashed when read, then forgotten). */
export interface ApiKeyEntry {
  /** Shown in logs as `caller`; `env-1`, `env-2`... for `GATEWAY_API_KEYS` entries. */
  name: string;
  /** SHA-256 of the key, 64 lowercase hex digits. */
  digest: string;
  /** `'*'` or the provider names this key may use. */
  providers: '*' | ReadonlySet<string>;
  rateLimit?: RateLimitPolicy;
}

/** How `GATEWAY_API_KEYS_FILE` is read: `KEYS_FILE_MAX_BYTES`, `KEYS_FILE_SETTLE_MS`. */
export interface KeysFileLimits {
  maxBytes: number;
  /** How long the file must stay unchanged after a change event before it is read. */
  settleMs: number;
}

export interface HostPort {
  host: string;
  port: number;
}

/** One `TRUSTED_PROXIES` entry: an address is a range of its full length. */
export interface TrustedProxy {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export interface RedisConfig {
  url?: string;
  clusterNodes?: HostPort[];
  sentinels?: HostPort[];
  sentinelName?: string;
}

export interface GatewayConfig {
  port: number;
  host: string;
  /** `ADMIN_PORT`: the operator routes on a port of their own; undefined, on `port`. */
  adminPort?: number;
  /** `ADMIN_HOST`: undefined, the same interface as the proxy's. */
  adminHost?: string;
  production: boolean;
  /** From `GATEWAY_API_KEYS` or `GATEWAY_API_KEYS_FILE`; empty when neither is set (sandbox mode then generates one). */
  apiKeys: ApiKeyEntry[];
  /** `GATEWAY_API_KEYS_FILE`: read again on SIGHUP and when it changes. */
  apiKeysFile?: string;
  /** SHA-256 of `GATEWAY_API_KEYS_FILE` as read at start-up: a later event that changed nothing in it is no reload. */
  apiKeysFileContent?: string;
  keysFileLimits: KeysFileLimits;
  redis?: RedisConfig;
  /** The 32 bytes of `TOKEN_ENCRYPTION_KEY`. */
  tokenEncryptionKey?: Buffer;
  /** `TOKEN_ENCRYPTION_PREVIOUS_KEYS`: retired keys, still used to read what they sealed. */
  tokenPreviousKeys?: Buffer[];
  tokens: {
    refreshSkewSeconds: number;
    requestTimeoutMs: number;
    defaultTtlSeconds: number;
    maxTtlSeconds: number;
    rejectedCooldownSeconds: number;
    /** `TOKEN_MIN_INTERVAL_MS`: at most one renewal per provider starts in this long (0: no limit). */
    minRequestIntervalMs: number;
    /** `TOKEN_MAX_BYTES`: longest access token (and token type) accepted from a token endpoint. */
    maxTokenBytes: number;
    /** `TOKEN_WARM_ON_START`: fetch every provider's token at start-up and keep it renewed (else: only tokens in use). */
    warmOnStart: boolean;
  };
  /** `UPSTREAM_TIMEOUT_MS`: longest wait for the API's final answer head (1xx answers do not extend it), and between bytes of its body. */
  upstreamTimeoutMs: number;
  /** `MAX_INFLIGHT_PER_PROVIDER`: one provider's requests in flight past this are answered 503 `upstream_saturated`. */
  maxInflightPerProvider: number;
  /** `SHUTDOWN_TIMEOUT_MS`: how long in-flight requests may take to finish once a stop is asked. */
  shutdownTimeoutMs: number;
  /** `SHUTDOWN_DELAY_MS`: how long the gateway keeps accepting and serving, readiness 503, after the first SIGTERM. */
  shutdownDelayMs: number;
  /** `MAX_CONNECTIONS`: most caller connections open on `PORT` at once (0: no cap). */
  maxConnections: number;
  maxBodyBytes: number;
  /** `CLIENT_TIMEOUT_MS`: longest wait for a caller's request head to complete, or for the next byte of its body (then 408). */
  clientTimeoutMs: number;
  /** `UPLOAD_TIMEOUT_MS`: longest time a caller's whole body may take to arrive (then 408). */
  uploadTimeoutMs: number;
  /** `MAX_HEADER_COUNT`: more request headers than this are refused with 431. */
  maxHeaderCount: number;
  /** `TRUSTED_PROXIES`: peers whose `x-forwarded-for` is kept and appended to (empty: nobody's). */
  trustedProxies: TrustedProxy[];
  logLevel: LogLevel;
  /** OpenTelemetry traces (`OTEL_*`); undefined: off. */
  tracing?: TracingConfig;
  sandbox: 'true' | 'false' | 'auto';
  /** Enabled providers (all required variables set, or filled in by sandbox mode). */
  providers: ProviderConfig[];
  /** Every name a request may address: built-ins (enabled or not) and `OAUTH_PROVIDERS`. */
  /** Provider secrets given as `*_FILE`: read again when they change and on SIGHUP. */
  secretFiles: SecretFile[];
  /** The start-up warning lines (variables nothing reads, an unknown `NODE_ENV`...), logged once the logger is up. */
  warnings?: string[];
  knownProviders: ReadonlySet<string>;
}

/**
 * The gateway's configuration as Nest serves it: parsed once before Nest starts, injected only
 * where needed, never registered in `ConfigService` (whose values any provider may read).
 */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
