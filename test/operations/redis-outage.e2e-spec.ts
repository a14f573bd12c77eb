import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { createGateway, type Gateway } from '../../apps/gateway/src/gateway.factory.js';
import { startRedisServer, type PrivateRedisServer } from '../../scripts/redis-server.mjs';
import { emulatorEnv, FAST_RETRY, KEY_ALL, LogCapture } from '../support/gateway-harness.js';
import { waitUntil } from '../support/helpers.js';

// A private redis-server, killed and restarted mid-run; `npm test` says when Redis suites skip.
const describeRedis = process.env.TEST_REDIS_URL ? describe : describe.skip;

describeRedis('gateways whose Redis dies mid-run', () => {
  let emulators: ProviderEmulators;
  let redis: PrivateRedisServer;
  const logs = new LogCapture();
  const gateways: Gateway[] = [];
  const get = (gateway: Gateway, path: string) => fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': KEY_ALL } });
  const degradedGauge = async (gateway: Gateway) => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    return /^gateway_token_store_degraded\{shared="true"\} (\d)$/m.exec(text)?.[1];
  };
  const storeOf = async (gateway: Gateway) => {
    const answer = await get(gateway, '/health/ready');
    const body = (await answer.json()) as { providers: Array<{ provider: string; store: { degraded: boolean } }> };
    return { status: answer.status, degraded: body.providers.find((p) => p.provider === 'prio')!.store.degraded };
  };

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    redis = await startRedisServer();
    const env = { ...emulatorEnv(emulators), REDIS_URL: redis.url, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
    for (let i = 0; i < 2; i++) {
      gateways.push(await createGateway(env, { port: 0, host: '127.0.0.1', logDestination: logs, oauth: { retry: FAST_RETRY } }));
    }
  });

  afterAll(async () => {
    for (const gateway of gateways) await gateway.close().catch(() => undefined);
    await emulators.close();
    await redis.stop();
  });

  it('fails no call while Redis is killed and restarted, reports degraded (ready details and metric) meanwhile, and recovers by itself', async () => {
    const statuses: number[] = [];
    const traffic = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        const answers = await Promise.all(gateways.map((g) => get(g, '/prio/echo')));
        statuses.push(...answers.map((a) => a.status));
      }
    };
    await traffic(5);
    const fetchedBefore = emulators.tokenRequests('prio').length;

    await Promise.all([traffic(20), redis.stop()]);
    await waitUntil(async () => (await storeOf(gateways[0])).degraded, 'the gateway to report the store degraded');
    expect(await storeOf(gateways[1])).toEqual({ status: 200, degraded: true }); // still ready: its token is valid
    expect(await degradedGauge(gateways[1])).toBe('1');
    // Forced renewals while Redis is away: each gateway fetches for itself, no call fails.
    emulators.revokeTokens('prio');
    await traffic(10);
    expect(emulators.tokenRequests('prio').length).toBeGreaterThan(fetchedBefore);

    redis = await startRedisServer(redis.port);
    await waitUntil(
      async () => !(await storeOf(gateways[0])).degraded && !(await storeOf(gateways[1])).degraded,
      'both gateways to reconnect',
      15_000,
    );
    expect(await degradedGauge(gateways[0])).toBe('0');
    await traffic(5);
    expect(statuses).toHaveLength(80);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }, 60_000);
});
