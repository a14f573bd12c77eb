import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from '@jest/globals';
import { gatewayEnv, startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { keyDigest } from '../../apps/gateway/src/config/api-keys.config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../apps/gateway/src/gateway.factory.js';

/** Keys every e2e gateway accepts: one for everything, one for two providers only. */
export const KEY_ALL = 'k-all-7f3b1c9e5d';
export const KEY_LATAM_PRIO = 'k-limited-2a8e4f6b0c';

/** The five built-ins plus a generic provider (`acme`, answered by the RFC 6749 emulator), all pointed at the emulators. */
export function emulatorEnv(e: ProviderEmulators): Record<string, string> {
  return {
    ...gatewayEnv(e),
    GATEWAY_API_KEYS: `${KEY_ALL}:*,${KEY_LATAM_PRIO}:latam|prio`,
    SANDBOX: 'false',
    // Cold start: each test decides when the first token request happens (lifecycle tests warm up).
    TOKEN_WARM_ON_START: 'false',
    // Suites revoke a token right after obtaining it and expect the 401 replay; the pacing of
    // renewals has its own suite (gateway-tokens-partner).
    TOKEN_MIN_INTERVAL_MS: '0',
    LOG_LEVEL: 'debug',
  };
}

/** Every log line the gateway writes, kept in memory. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface Harness {
  emulators: ProviderEmulators;
  gateway: Gateway;
  url: string;
  logs: LogCapture;
  tokens: TokenService;
  env: Record<string, string>;
  /** Every secret this run used: credentials, API keys, and each access/refresh token issued. */
  secrets(): string[];
  /** Stops everything, then asserts no secret ever reached a log line. */
  close(): Promise<void>;
}

/** Fast retries: a failing token endpoint is given up on in well under a second. */
export const FAST_RETRY = { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 300 };

/**
 * The real gateway on a loopback port in front of real emulators, logging at `debug` into
 * memory. `close()` checks those logs for every secret of the run.
 */
export async function startHarness(envOverrides: Record<string, string | undefined> = {}, options: GatewayOptions = {}): Promise<Harness> {
  const emulators = await startProviderEmulators();
  const env = { ...emulatorEnv(emulators), ...envOverrides } as Record<string, string>;
  const logs = new LogCapture();
  const gateway = await createGateway(env, { port: 0, host: '127.0.0.1', logDestination: logs, oauth: { retry: FAST_RETRY }, ...options });
  const tokens = gateway.app.get(TokenService);
  const issued = new Set<string>();
  tokens.events.on('obtained', ({ token }) => {
    issued.add(token.accessToken);
    if (token.refreshToken) issued.add(token.refreshToken);
  });
  const secrets = () => {
    const fromEnv = Object.entries(env)
      .filter(([name]) => /SECRET|PASSWORD|API_KEYS$|ENCRYPTION_KEY/.test(name))
      .flatMap(([name, value]) => (name === 'GATEWAY_API_KEYS' ? apiKeysIn(value) : [value]));
    return [...fromEnv, ...apiKeysIn(`${KEY_ALL},${KEY_LATAM_PRIO}`), ...issued].filter((s) => s.length >= 6);
  };
  return {
    emulators,
    gateway,
    url: gateway.url,
    logs,
    tokens,
    env,
    secrets,
    close: async () => {
      await gateway.close();
      await emulators.close();
      expectNoSecretIn(logs.text(), secrets());
    },
  };
}

/**
 * The keys of a `GATEWAY_API_KEYS` value and their digests, as hex and as the raw bytes a careless
 * log line might show: neither may appear anywhere.
 */
export function apiKeysIn(value: string): string[] {
  return value.split(',').flatMap((entry) => {
    const hashed = /^sha256:([0-9a-fA-F]{64})/.exec(entry.trim());
    const digest = hashed ? hashed[1].toLowerCase() : keyDigest(entry.trim().split(':')[0]);
    const bytes = Buffer.from(digest, 'hex');
    return [
      ...(hashed ? [] : [entry.trim().split(':')[0]]),
      digest,
      digest.toUpperCase(),
      bytes.toString('base64'),
      bytes.toString('base64url'),
    ];
  });
}

export function expectNoSecretIn(text: string, secrets: string[]): void {
  expect(text.length).toBeGreaterThan(0);
  const leaked = secrets.filter((s) => text.includes(s) || text.includes(JSON.stringify(s).slice(1, -1)));
  expect(leaked).toEqual([]);
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request whose target goes out exactly as written (fetch would normalise `..`, `%2e`...). */
export function send(
  base: string,
  target: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: opts.method ?? 'GET', path: target, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A GET through the harness gateway with the key allowed everything (and any extra headers). */
export function getAsAdmin(h: Harness, target: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return send(h.url, target, { headers: { 'x-api-key': KEY_ALL, ...headers } });
}

/** Bytes on a socket, for what no HTTP client will send (absolute-form targets, raw control characters). */
export function sendRaw(base: string, requestHead: string): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, split), body: text.slice(split + 4) });
    });
    socket.write(requestHead);
  });
}

export const problemOf = (answer: { body: string }) => JSON.parse(answer.body) as Record<string, unknown>;

/** Waits for a condition to hold (an event happened, a counter moved); fails after `limitMs`. */
export async function until(condition: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
