import { isIP, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parseEncryptionKey } from '@oauth-gateway/oauth-providers/redis';
import { parseCallerKeys } from './api-keys.config.js';
import {
  BUILT_IN_PROVIDERS,
  LOG_LEVELS,
  RESERVED_NAMES,
  type BuiltInProvider,
  type GatewayConfig,
  type HostPort,
  type ProviderConfig,
  type TrustedProxy,
} from './gateway-config.js';
import { noProviderProblem, sandboxWanted, SANDBOX_DEFAULT_HOST } from './sandbox.js';
import { withSecretFiles } from './secret-files.js';

export type Env = Record<string, string | undefined>;

/** A bad configuration: one line per problem, each naming its variable, never a value. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

const PROVIDER_NAME = /^[a-z][a-z0-9-]*$/;

const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, max === Number.MAX_SAFE_INTEGER ? `must be a whole number, at least ${min}` : `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);

const hostPortList = z
  .string()
  .transform((value, ctx) => {
    const nodes: HostPort[] = [];
    for (const entry of value.split(',').map((e) => e.trim())) {
      // An IPv6 host goes in brackets (RFC 3986 §3.2.2): `[::1]:7002`.
      const match = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(entry);
      const port = match ? Number(match[3]) : 0;
      if (!match || port < 1 || port > 65535 || (match[1] !== undefined && !isIPv6(match[1]))) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of host:port' });
        return z.NEVER;
      }
      nodes.push({ host: match[1] ?? match[2], port });
    }
    return nodes;
  })
  .optional();

/** `10.0.0.0/8,192.168.1.7,::1`: addresses and CIDR ranges, IPv4 or IPv6. */
const trustedProxyList = z
  .string()
  .transform((value, ctx) => {
    const proxies: TrustedProxy[] = [];
    for (const entry of value.split(',').map((e) => e.trim())) {
      const [address, prefix, extra] = entry.split('/');
      const version = isIP(address);
      const bits = version === 4 ? 32 : 128;
      const length = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      if (version === 0 || extra !== undefined || !(length >= 0 && length <= bits)) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of IP addresses or CIDR ranges (e.g. 10.0.0.0/8,::1)' });
        return z.NEVER;
      }
      proxies.push({ address, prefix: length, family: version === 4 ? 'ipv4' : 'ipv6' });
    }
    return proxies;
  })
  .optional();

/** The gateway's own variables; providers are read apart (their names are dynamic). */
const gatewaySchema = z.object({
  PORT: integer(3000, 0, 65535),
  // Unset: every interface, or the loopback when a sandbox runs.
  HOST: z.string().optional(),
  NODE_ENV: z.string().optional(),
  GATEWAY_API_KEYS: z.string().optional(),
  GATEWAY_API_KEYS_FILE: z.string().optional(),
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\/[^\s]+$/.test(v) && URL.canParse(v), 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_CLUSTER_NODES: hostPortList,
  REDIS_SENTINELS: hostPortList,
  REDIS_SENTINEL_NAME: z.string().optional(),
  TOKEN_ENCRYPTION_KEY: z
    .string()
    .transform((v, ctx) => encryptionKey(v) ?? (ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, base64 or hex encoded' }), z.NEVER))
    .optional(),
  // Keys retired by a rotation: entries they sealed are still read until they expire.
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: z
    .string()
    .transform((v, ctx) => {
      const keys = v.split(',').map(encryptionKey);
      if (keys.every((key) => key !== undefined)) return keys as Buffer[];
      ctx.addIssue({ code: 'custom', message: 'must be comma-separated keys of 32 bytes each, base64 or hex encoded' });
      return z.NEVER;
    })
    .optional(),
  TOKEN_REFRESH_SKEW_SECONDS: integer(60, 0),
  TOKEN_REQUEST_TIMEOUT_MS: integer(10_000, 1),
  TOKEN_DEFAULT_TTL_SECONDS: integer(3600, 1),
  TOKEN_MAX_TTL_SECONDS: integer(604_800, 1),
  TOKEN_REJECTED_COOLDOWN_SECONDS: integer(30, 0),
  TOKEN_WARM_ON_START: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true'),
  UPSTREAM_TIMEOUT_MS: integer(30_000, 1),
  SHUTDOWN_TIMEOUT_MS: integer(10_000, 0, 600_000),
  MAX_BODY_BYTES: integer(10_485_760, 1),
  CLIENT_TIMEOUT_MS: integer(10_000, 1),
  UPLOAD_TIMEOUT_MS: integer(60_000, 1),
  MAX_HEADER_COUNT: integer(100, 1, 1000),
  TRUSTED_PROXIES: trustedProxyList,
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  SANDBOX: z.enum(['true', 'false', 'auto'], { error: 'must be true, false or auto' }).default('auto'),
  OAUTH_PROVIDERS: z.string().optional(),
});

/** The key as the library reads it (the same rules everywhere); undefined, never echoed, when it is not one. */
function encryptionKey(value: string): Buffer | undefined {
  try {
    return parseEncryptionKey(value);
  } catch {
    return undefined;
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
  const beforeProviders = problems.length;
  const generic = parseGenericNames(env.OAUTH_PROVIDERS, problems);
  const knownProviders = new Set<string>([...BUILT_IN_PROVIDERS, ...generic]);
  const providers = [
    ...BUILT_IN_PROVIDERS.flatMap((name) => readBuiltIn(name, env, problems)),
    ...generic.flatMap((name) => readGeneric(name, env, problems)),
  ];
  const partlyConfigured = problems.length > beforeProviders;
  const { apiKeys, apiKeysFile } = parseCallerKeys(env, knownProviders, problems);
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
  const sandboxRule = { sandbox: v.SANDBOX, production, providers };
  const noProvider = noProviderProblem(sandboxRule, partlyConfigured);
  if (noProvider) problems.push(noProvider);
  if (problems.length > 0) throw new ConfigValidationError(problems);

  return {
    port: v.PORT,
    host: v.HOST ?? (sandboxWanted(sandboxRule) ? SANDBOX_DEFAULT_HOST : '0.0.0.0'),
    production,
    apiKeys,
    apiKeysFile,
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
      warmOnStart: v.TOKEN_WARM_ON_START === 'true',
    },
    upstreamTimeoutMs: v.UPSTREAM_TIMEOUT_MS,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    maxBodyBytes: v.MAX_BODY_BYTES,
    clientTimeoutMs: v.CLIENT_TIMEOUT_MS,
    uploadTimeoutMs: v.UPLOAD_TIMEOUT_MS,
    maxHeaderCount: v.MAX_HEADER_COUNT,
    trustedProxies: v.TRUSTED_PROXIES ?? [],
    logLevel: v.LOG_LEVEL,
    sandbox: v.SANDBOX,
    providers,
    knownProviders,
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

/** `LATAM`, `MY_IDP` for `my-idp`. */
export const envPrefix = (provider: string) => provider.toUpperCase().replace(/-/g, '_');

/** What each built-in needs beyond the common variables; the rest of each is optional. */
const BUILT_IN_REQUIRED: Record<BuiltInProvider, string[]> = {
  latam: [],
  transatel: [],
  payme: ['AUDIENCE'],
  prio: [],
  sabre: ['USERNAME', 'PASSWORD'],
};
const COMMON_REQUIRED = ['TOKEN_URL', 'API_URL', 'CLIENT_ID', 'CLIENT_SECRET'];

/**
 * Reads a provider's variables: none of the required ones set means "not enabled" (undefined);
 * some but not all is a problem per missing variable.
 */
function readRequired(name: string, env: Record<string, string>, suffixes: string[], problems: string[], optionalIfNone: boolean) {
  const prefix = envPrefix(name);
  const missing = suffixes.filter((s) => env[`${prefix}_${s}`] === undefined);
  if (optionalIfNone && missing.length === suffixes.length) return undefined;
  if (missing.length > 0) {
    const why = optionalIfNone ? `${name} is partly configured` : `${name} is listed in OAUTH_PROVIDERS`;
    for (const s of missing) problems.push(`${prefix}_${s}: missing (${why}; it needs ${suffixes.map((x) => `${prefix}_${x}`).join(', ')})`);
    return undefined;
  }
  const get = (suffix: string) => env[`${prefix}_${suffix}`];
  const urlProblem = (suffix: 'TOKEN_URL' | 'API_URL') => {
    const problem = httpUrlProblem(get(suffix)!, suffix === 'API_URL');
    if (problem) problems.push(`${prefix}_${suffix}: ${problem}`);
    return problem !== undefined;
  };
  const bad = [urlProblem('TOKEN_URL'), urlProblem('API_URL')].some(Boolean);
  if (bad) return undefined;
  return {
    get,
    endpoints: {
      name,
      tokenUrl: get('TOKEN_URL')!,
      apiUrl: get('API_URL')!.replace(/\/+$/, ''),
      clientId: get('CLIENT_ID')!,
      clientSecret: get('CLIENT_SECRET')!,
    },
  };
}

function httpUrlProblem(value: string, isBase: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http(s) URL';
  if (url.username || url.password) return 'must not carry credentials (use the *_CLIENT_ID / *_CLIENT_SECRET variables)';
  if (isBase && (url.search || url.hash || value.includes('?') || value.includes('#'))) return 'must not have a query or fragment';
  return undefined;
}

function readBuiltIn(name: BuiltInProvider, env: Record<string, string>, problems: string[]): ProviderConfig[] {
  const prefix = envPrefix(name);
  const read = readRequired(name, env, [...COMMON_REQUIRED, ...BUILT_IN_REQUIRED[name]], problems, true);
  if (!read) return [];
  const { get, endpoints } = read;
  switch (name) {
    case 'latam': {
      const testEnv = get('TEST_ENV');
      if (testEnv !== undefined && testEnv !== 'true' && testEnv !== 'false') {
        problems.push('LATAM_TEST_ENV: must be true or false');
      }
      return [{ ...endpoints, kind: 'latam', testEnvironment: testEnv === 'true' }];
    }
    case 'transatel':
      return [{ ...endpoints, kind: 'transatel', scope: get('SCOPE') }];
    case 'prio':
      return [{ ...endpoints, kind: 'prio', scope: get('SCOPE') }];
    case 'sabre':
      return [{ ...endpoints, kind: 'sabre', username: get('USERNAME')!, password: get('PASSWORD')! }];
    case 'payme': {
      const username = get('USERNAME');
      const password = get('PASSWORD');
      // Both: the password grant; neither: client_credentials (Pay-me's token API takes either).
      if ((username === undefined) !== (password === undefined)) {
        problems.push(`${prefix}_${username === undefined ? 'USERNAME' : 'PASSWORD'}: missing (PAYME_USERNAME and PAYME_PASSWORD go together)`);
      }
      return [
        { ...endpoints, kind: 'payme', audience: get('AUDIENCE')!, username, password, scope: get('SCOPE'), apiVersion: get('API_VERSION') },
      ];
    }
  }
}

function parseGenericNames(value: string | undefined, problems: string[]): string[] {
  if (value === undefined) return [];
  const names: string[] = [];
  for (const name of value.split(',').map((n) => n.trim())) {
    if (!PROVIDER_NAME.test(name)) {
      problems.push(`OAUTH_PROVIDERS: "${name.slice(0, 40)}" is not a valid name (lowercase [a-z][a-z0-9-]*)`);
    } else if ((BUILT_IN_PROVIDERS as readonly string[]).includes(name) || RESERVED_NAMES.includes(name)) {
      problems.push(`OAUTH_PROVIDERS: "${name}" clashes with a built-in or reserved name`);
    } else if (names.includes(name)) {
      problems.push(`OAUTH_PROVIDERS: "${name}" is listed twice`);
    } else {
      names.push(name);
    }
  }
  const prefixes = new Map<string, string>();
  for (const name of names) {
    const clash = prefixes.get(envPrefix(name));
    if (clash) problems.push(`OAUTH_PROVIDERS: "${clash}" and "${name}" would read the same ${envPrefix(name)}_* variables`);
    prefixes.set(envPrefix(name), name);
  }
  return names;
}

function readGeneric(name: string, env: Record<string, string>, problems: string[]): ProviderConfig[] {
  const prefix = envPrefix(name);
  const read = readRequired(name, env, COMMON_REQUIRED, problems, false);
  const grantType = env[`${prefix}_GRANT_TYPE`] ?? 'client_credentials';
  const authMethod = env[`${prefix}_AUTH_METHOD`] ?? 'client_secret_basic';
  if (grantType !== 'client_credentials' && grantType !== 'password') {
    problems.push(`${prefix}_GRANT_TYPE: must be client_credentials or password`);
    return [];
  }
  if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post') {
    problems.push(`${prefix}_AUTH_METHOD: must be client_secret_basic or client_secret_post`);
    return [];
  }
  const username = env[`${prefix}_USERNAME`];
  const password = env[`${prefix}_PASSWORD`];
  if (grantType === 'password') {
    if (username === undefined) problems.push(`${prefix}_USERNAME: missing (required by ${prefix}_GRANT_TYPE=password)`);
    if (password === undefined) problems.push(`${prefix}_PASSWORD: missing (required by ${prefix}_GRANT_TYPE=password)`);
  }
  if (!read) return [];
  return [
    {
      ...read.endpoints,
      kind: 'oauth2',
      grantType,
      authMethod,
      username,
      password,
      scope: env[`${prefix}_SCOPE`],
      audience: env[`${prefix}_AUDIENCE`],
    },
  ];
}
