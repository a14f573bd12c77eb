import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ApiKeys } from '../auth/api-keys.js';
import { keyDigest } from '../config/api-keys.config.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { ProblemError } from '../problem/problem.js';
import { InMemoryRateLimiter } from '../ratelimit/in-memory.rate-limiter.js';
import { Admission, type Admitted } from './admission.js';
import { DeadlineSweeper } from './deadline-sweeper.js';
import { ForwardedFor } from './forwarded-for.js';
import { Upstreams } from './upstreams.js';

const MAX_BODY_BYTES = 1000;
const providers = [{ name: 'prio', apiUrl: 'http://127.0.0.1:9/api/' }] as GatewayConfig['providers'];
const upstreams = new Upstreams({ providers, upstreamTimeoutMs: 1000 });
const sweeper = new DeadlineSweeper(1000, () => undefined);
const apiKeys = new ApiKeys([
  { name: 'all', digest: keyDigest('k-all'), providers: '*' },
  { name: 'latam-only', digest: keyDigest('k-latam'), providers: new Set(['latam']) },
]);
const admission = new Admission(
  { knownProviders: new Set(['prio', 'latam', 'sabre']), maxBodyBytes: MAX_BODY_BYTES, maxInflightPerProvider: 1024 },
  apiKeys,
  upstreams,
  new ForwardedFor([]),
  sweeper,
  new InMemoryRateLimiter(),
  {} as MetricsService,
);

afterAll(async () => {
  sweeper.close();
  await upstreams.close();
});

/** A request as admission sees it: its head only (a body stream when it announces one). */
function callFor(url: string, headers: Record<string, string>): Admitted {
  const req = Object.assign(new PassThrough(), { url, headers, socket: { remoteAddress: '10.1.2.3' } }) as unknown as IncomingMessage;
  return {
    req,
    requestId: 'req-1',
    caller: '-',
    provider: '-',
    path: '',
    limited: undefined,
    upstream: undefined,
    target: '',
    headers: {},
    body: undefined,
    bodyTooLarge: () => undefined,
    expire: () => undefined,
  };
}

const codeOf = (problem: ProblemError | undefined) => problem?.code;

describe('Admission', () => {
  it('refuses a request without a known key (401) before reading its path', () => {
    expect(codeOf(admission.admit(callFor('/../x', {})))).toBe('unauthenticated');
    expect(codeOf(admission.admit(callFor('/prio/x', { 'x-api-key': 'nope' })))).toBe('unauthenticated');
  });

  it('refuses a key a provider it may not use (403) whether or not that provider exists', () => {
    for (const provider of ['prio', 'nope']) {
      const call = callFor(`/${provider}/x`, { 'x-api-key': 'k-latam' });
      expect(codeOf(admission.admit(call))).toBe('forbidden');
      expect(call.caller).toBe('latam-only');
    }
  });

  it('tells a known provider without configuration from an unknown one, and a path without a provider', () => {
    expect(codeOf(admission.admit(callFor('/sabre/x', { 'x-api-key': 'k-all' })))).toBe('provider_not_configured');
    expect(codeOf(admission.admit(callFor('/nope/x', { 'x-api-key': 'k-all' })))).toBe('unknown_provider');
    expect(codeOf(admission.admit(callFor('/', { 'x-api-key': 'k-all' })))).toBe('not_found');
    expect(codeOf(admission.admit(callFor('/prio/%2e%2e/x', { 'x-api-key': 'k-all' })))).toBe('invalid_path');
  });

  it('sets where an admitted request goes: under the API base path, with its query and the forwarded headers', () => {
    const call = callFor('/prio/v1/items?page=2', { 'x-api-key': 'k-all', host: 'gw.example', accept: 'application/json' });
    expect(admission.admit(call)).toBeUndefined();
    expect(call).toMatchObject({ caller: 'all', provider: 'prio', path: '/v1/items', target: '/api/v1/items?page=2' });
    expect(call.upstream?.provider).toBe('prio');
    expect(call.headers).toMatchObject({ accept: 'application/json', 'x-forwarded-host': 'gw.example', 'x-request-id': 'req-1' });
    expect(call.headers['x-api-key']).toBeUndefined();
    expect(call.body).toBeUndefined();
  });

  it('refuses a declared length over MAX_BODY_BYTES (413), and watches the deadlines of a body it admits', () => {
    const tooLarge = callFor('/prio/upload', { 'x-api-key': 'k-all', 'content-length': String(MAX_BODY_BYTES + 1) });
    expect(codeOf(admission.admit(tooLarge))).toBe('payload_too_large');
    const upload = callFor('/prio/upload', { 'x-api-key': 'k-all', 'content-length': '10' });
    expect(admission.admit(upload)).toBeUndefined();
    expect(upload.body).toBeDefined();
    expect(sweeper.size).toBe(1);
    sweeper.unwatch(upload);
    upload.body?.destroy();
  });
});
