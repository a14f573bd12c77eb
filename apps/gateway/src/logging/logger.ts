import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/gateway-config.js';
import { AccessLog } from './access-log.js';

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
  /** Where lines go; default stdout (JSON in production or without pino-pretty, readable otherwise). Tests pass their own. */
  destination?: DestinationStream;
}

/**
 * Production lines are written in batches (4 KiB, or every second when traffic is low) so the
 * access log costs no system call per request, and synchronously, as pino and Node do by default,
 * since asynchronous writes hand each batch to libuv's thread pool at a higher cost per request;
 * pino flushes what is left when the process exits (not after a SIGKILL).
 */
const BATCHED_STDOUT = { sync: true, minLength: 4096, periodicFlush: 1000 };

export interface GatewayLogs {
  /** Every line but the access lines, redacted. */
  logger: Logger;
  /** The proxy's access lines, on the same destination. */
  accessLog: AccessLog;
}

export async function createLogs({ level, production, destination }: LoggerOptions): Promise<GatewayLogs> {
  const base = { pid: process.pid };
  const target = destination ?? (production ? undefined : await prettyStdout()) ?? pino.destination(BATCHED_STDOUT);
  const logger = pino({ level, redact: { paths: REDACT_PATHS, censor: '[Redacted]' }, base }, target);
  return { logger, accessLog: new AccessLog(logger, target, base) };
}

/** Readable lines for development, or undefined (JSON) where `pino-pretty`, a dev dependency, is not installed. */
async function prettyStdout(): Promise<DestinationStream | undefined> {
  let pretty;
  try {
    ({ default: pretty } = await import('pino-pretty'));
  } catch (error) {
    // A production install (`npm ci --omit=dev`) run without NODE_ENV=production.
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  // Synchronous in development: lines keep their order with what the gateway prints itself (the sandbox banner).
  return pretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true });
}
