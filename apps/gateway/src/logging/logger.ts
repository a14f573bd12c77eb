import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/gateway-config.js';

/**
 * Names whose values are secrets wherever they appear in a logged object (headers, token
 * answers, errors' causes...). The gateway never logs these on purpose; redaction is the net.
 */
const SECRET_KEYS = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'access_token',
  'accessToken',
  'client_secret',
  'clientSecret',
  'password',
  'refresh_token',
  'refreshToken',
  'cookie',
  'set-cookie',
];

/** Every secret name at the top level and up to four objects deep (pino paths have no `**`). */
export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const name = `["${key}"]`;
  return [name, `*${name}`, `*.*${name}`, `*.*.*${name}`, `*.*.*.*${name}`];
});

export interface LoggerOptions {
  level: LogLevel;
  production: boolean;
  /** Where lines go; default stdout (JSON in production, pretty otherwise). Tests pass their own. */
  destination?: DestinationStream;
}

/**
 * The proxy's access logger: the root's child without redaction. Wildcard redaction over these
 * paths costs ~75 µs per line in pino 10 (`@pinojs/redact` walks every path on every object),
 * about ten times the rest of a proxied request; the access line needs none, since it is only
 * ever given fixed fields (request id, provider, method, path without query, status, timings).
 * Everything else keeps going through the redacting root.
 */
export function createAccessLogger(root: Logger): Logger {
  return root.child({}, { redact: { paths: [] } });
}

/**
 * Production lines are written in batches of at least 4 KiB, or every second when traffic is low:
 * a `write(2)` per access line cost about as much CPU as building the line. The writes are
 * synchronous (pino's default, and Node's own for stdout on files and pipes): asynchronous ones go
 * through libuv's thread pool, and cost the proxy about 10% more CPU per request than the same
 * batches written in place (bench, access log on vs off). Pino flushes what is left when the
 * process exits (not after a SIGKILL).
 */
const BATCHED_STDOUT = { sync: true, minLength: 4096, periodicFlush: 1000 };

export async function createRootLogger({ level, production, destination }: LoggerOptions): Promise<Logger> {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[Redacted]' }, base: { pid: process.pid } };
  if (destination || production) return pino(options, destination ?? pino.destination(BATCHED_STDOUT));
  // pino-pretty is a dev dependency: only loaded outside production.
  const { default: pretty } = await import('pino-pretty');
  // Synchronous in development: lines keep their order with what the gateway prints itself (the sandbox banner).
  return pino(options, pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
}
