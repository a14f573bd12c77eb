import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { newApiKey } from '../../apps/gateway/src/cli/keys-cli.js';
import { keyDigest } from '../../apps/gateway/src/config/api-keys.config.js';
import { startRedisServer, type PrivateRedisServer } from '../../scripts/redis-server.mjs';
import { apiKeysIn, emulatorEnv, expectNoSecretIn } from '../support/gateway-harness.js';
import { GatewayProcess, metric } from '../support/gateway-process.js';
import { waitUntil } from '../support/helpers.js';

// A private redis-server, killed and restarted mid-run; `npm test` says when Redis suites skip.
const describeRedis = process.env.TEST_REDIS_URL ? describe : describe.skip;

const LIMITED = newApiKey();
const OPS = newApiKey();
/** 5 per minute: a burst of 5, then one more every 12 s, so the counts below hold on a slow machine too. */
const LIMIT = 5;
const INTERVAL_MS = 12_000;

describeRedis('rate limits of two gateway processes on one Redis', () => {
  let emulators: ProviderEmulators;
  let redis: PrivateRedisServer;
  const gateways: GatewayProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'rate-limit-'));

  /** Sends `count` requests of the limited key, alternating between the gateways; the statuses and the admitted bound. */
  async function burst(count: number, on: GatewayProcess[] = gateways) {
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      statuses.push((await fetch(`${on[i % on.length].url}/prio/echo`, { headers: { 'x-api-key': LIMITED } })).status);
    }
    return { statuses, admitted: statuses.filter((s) => s === 200).length, refill: Math.floor((Date.now() - started) / INTERVAL_MS) };
  }
  const rateLimits = async (g: GatewayProcess) =>
    (
      (await (await fetch(`${g.url}/tokens`, { headers: { 'x-api-key': OPS } })).json()) as {
        rateLimits: { shared: boolean; degraded: boolean };
      }
    ).rateLimits;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    redis = await startRedisServer();
    const file = join(dir, 'keys.yaml');
    writeFileSync(
      file,
      `keys:\n  - { name: limited, key: "sha256:${keyDigest(LIMITED)}", providers: [prio, latam], rateLimit: ${LIMIT}/m }\n` +
        `  - { name: ops, key: "sha256:${keyDigest(OPS)}", providers: "*" }\n`,
    );
    const { GATEWAY_API_KEYS: _, ...env } = emulatorEnv(emulators);
    const shared = {
      ...env,
      GATEWAY_API_KEYS_FILE: file,
      REDIS_URL: redis.url,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'info',
    };
    gateways.push(...(await Promise.all([GatewayProcess.start(shared), GatewayProcess.start(shared)])));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await emulators.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds one limit across both instances, whichever provider the key calls', async () => {
    for (const g of gateways) expect(await rateLimits(g)).toEqual({ shared: true, degraded: false });
    const { statuses, admitted, refill } = await burst(2 * LIMIT + 2);
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT + refill);
    // Both instances refused some: they saw the same bucket.
    expect(statuses.filter((s, i) => s === 429 && i % 2 === 0).length).toBeGreaterThan(0);
    expect(statuses.filter((s, i) => s === 429 && i % 2 === 1).length).toBeGreaterThan(0);
    // Across providers: the same bucket refuses latam too.
    const latam = await fetch(`${gateways[0].url}/latam/echo`, { headers: { 'x-api-key': LIMITED } });
    expect(latam.status).toBe(429);
    expect(latam.headers.get('ratelimit-policy')).toBe(`"default";q=${LIMIT};w=60`);
    const refusedByBoth =
      ((await metric(gateways[0].url, 'gateway_rate_limited_total{provider="prio"}')) ?? 0) +
      ((await metric(gateways[1].url, 'gateway_rate_limited_total{provider="prio"}')) ?? 0);
    expect(refusedByBoth).toBe(statuses.length - admitted);
    expect(await metric(gateways[0].url, 'gateway_rate_limited_total{provider="latam"}')).toBe(1);
    for (const g of gateways) expect(await metric(g.url, 'gateway_rate_limit_degraded')).toBe(0);
  });

  it('sends nothing to Redis for a key without a limit', async () => {
    const admin = new Redis(redis.url);
    try {
      const scriptCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
      const before = await scriptCalls();
      for (let i = 0; i < 20; i++)
        expect((await fetch(`${gateways[i % 2].url}/prio/echo`, { headers: { 'x-api-key': OPS } })).status).toBe(200);
      expect(await scriptCalls()).toBe(before);
      // While the limited key's requests each run the script once.
      await fetch(`${gateways[0].url}/prio/echo`, { headers: { 'x-api-key': LIMITED } });
      expect(await scriptCalls()).toBe(before + 1);
    } finally {
      admin.disconnect();
    }
  });

  it('applies the full limit in each instance on its own while Redis is away, says so, and shares it again once Redis is back', async () => {
    await redis.stop();
    await waitUntil(
      async () => (await Promise.all(gateways.map(rateLimits))).every((r) => r.degraded),
      'both gateways to report degraded limits',
    );
    for (const g of gateways) expect(await metric(g.url, 'gateway_rate_limit_degraded')).toBe(1);
    // Each instance now has a bucket of its own, full: the key gets up to the limit from each.
    for (const g of gateways) {
      const { statuses, admitted, refill } = await burst(LIMIT + 2, [g]);
      expect(admitted).toBeGreaterThanOrEqual(LIMIT);
      expect(admitted).toBeLessThanOrEqual(LIMIT + refill);
      expect(statuses.at(-1)).toBe(429);
    }

    redis = await startRedisServer(redis.port);
    await waitUntil(
      async () => (await Promise.all(gateways.map(rateLimits))).every((r) => !r.degraded),
      'both gateways to share limits again',
      15_000,
    );
    for (const g of gateways) expect(await metric(g.url, 'gateway_rate_limit_degraded')).toBe(0);
    // The restarted Redis is empty: one fresh bucket, shared again.
    const { admitted, refill } = await burst(2 * LIMIT);
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT + refill);
  }, 60_000);

  it('never writes a key or a digest in the logs or metrics of either instance', async () => {
    const secrets = apiKeysIn(`${LIMITED},${OPS}`);
    for (const g of gateways) expectNoSecretIn(`${g.output()}\n${await (await fetch(`${g.url}/metrics`)).text()}`, secrets);
  });
});
