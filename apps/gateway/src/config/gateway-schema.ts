import { isIP, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parseEncryptionKey } from '@oauth-gateway/oauth-providers/redis';
import { LOG_LEVELS, type HostPort, type TrustedProxy } from './gateway-config.js';

export const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(
      /^\d+$/,
      max === Number.MAX_SAFE_INTEGER ? `must be a whole number, at least ${min}` : `must be a whole number between ${min} and ${max}`,
    )
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
export const gatewaySchema = z.object({
  PORT: integer(3000, 0, 65535),
  // Unset: every interface, or the loopback when a sandbox runs.
  HOST: z.string().optional(),
  // Unset: the operator routes are served on PORT with the proxy.
  ADMIN_PORT: z
    .string()
    .regex(/^\d+$/, 'must be a whole number between 1 and 65535')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(65535, 'must be at most 65535'))
    .optional(),
  // Unset: the value of HOST.
  ADMIN_HOST: z.string().optional(),
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
    .transform(
      (v, ctx) => encryptionKey(v) ?? (ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, base64 or hex encoded' }), z.NEVER),
    )
    .optional(),
  // Keys retired by a rotation: entries they sealed are still read until they expire.
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: z
    .string()
    .transform((v, ctx) => {
      const keys = v.split(',').map(encryptionKey);
      if (keys.every((key) => key !== undefined)) return keys;
      ctx.addIssue({ code: 'custom', message: 'must be comma-separated keys of 32 bytes each, base64 or hex encoded' });
      return z.NEVER;
    })
    .optional(),
  TOKEN_REFRESH_SKEW_SECONDS: integer(60, 0),
  TOKEN_REQUEST_TIMEOUT_MS: integer(10_000, 1),
  TOKEN_DEFAULT_TTL_SECONDS: integer(3600, 1),
  TOKEN_MAX_TTL_SECONDS: integer(604_800, 1),
  TOKEN_REJECTED_COOLDOWN_SECONDS: integer(30, 0),
  TOKEN_MIN_INTERVAL_MS: integer(1000, 0, 60_000),
  // A token answer larger than 256 KiB is refused whole, so no token can be longer.
  TOKEN_MAX_BYTES: integer(16_384, 1, 262_144),
  TOKEN_WARM_ON_START: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true'),
  UPSTREAM_TIMEOUT_MS: integer(30_000, 1),
  MAX_INFLIGHT_PER_PROVIDER: integer(1024, 1),
  SHUTDOWN_TIMEOUT_MS: integer(10_000, 0, 600_000),
  SHUTDOWN_DELAY_MS: integer(0, 0, 600_000),
  // Unset: derived from the descriptor limit (connection-limit.ts); 0 turns the cap off.
  MAX_CONNECTIONS: z
    .string()
    .regex(/^\d+$/, 'must be a whole number between 0 and 1000000')
    .transform(Number)
    .pipe(z.number().max(1_000_000, 'must be at most 1000000'))
    .optional(),
  MAX_BODY_BYTES: integer(10_485_760, 1),
  CLIENT_TIMEOUT_MS: integer(10_000, 1),
  UPLOAD_TIMEOUT_MS: integer(60_000, 1),
  MAX_HEADER_COUNT: integer(100, 1, 1000),
  TRUSTED_PROXIES: trustedProxyList,
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  SANDBOX: z.enum(['true', 'false', 'auto'], { error: 'must be true, false or auto' }).default('auto'),
  OAUTH_PROVIDERS: z.string().optional(),
  // `true`: the start-up warnings (unknown variables, NODE_ENV) stop start-up like any other problem.
  CONFIG_STRICT: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
});

/** The key as the library reads it (the same rules everywhere); undefined, never echoed, when it is not one. */
function encryptionKey(value: string): Buffer | undefined {
  try {
    return parseEncryptionKey(value);
  } catch {
    return undefined;
  }
}
