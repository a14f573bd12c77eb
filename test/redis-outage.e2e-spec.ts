import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startProviderEmulators, type ProviderEmulators } from '#provider-emulators';
import { TokenService, type AccessToken } from '#oauth-providers';
import { createGateway, type Gateway } from '../apps/gateway/src/gateway.factory.js';
import { waitUntil } from '../libs/oauth-providers/test-support/redis-test-helpers.js';
import { startRedisServer, type PrivateRedisServer } from '../scripts/redis-server.mjs';
import { emulatorEnv, expectNoSecretIn, FAST_RETRY, KEY_ALL, LogCapture } from './support/gateway-harness.js';

const redisUrl = process.env.TEST_REDIS_URL;
const describeRedis = redisUrl ? describe : describe.skip;

describeRedis('several gateways against one Redis', () => {
  let emulators: ProviderEmulators;
  let redis: Redis;
  const logs = new LogCapture();
  const gateways: Gateway[] = [];
  const env = () => ({
    ...emulatorEnv(emulators),
    REDIS_URL: redisUrl!,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  });
  let sharedEnv: Record<string, string>;

  /** Distinct tokens the gateways obtained (each instance reports the shared one too). */
  const issued = new Map<string, AccessToken>();
  const startGateway = async () => {
    const gateway = await createGateway(sharedEnv, { port: 0, host: '127.0.0.1', logDestination: logs, oauth: { retry: FAST_RETRY, refresher: { warmOnStart: false } } });
    gateway.app.get(TokenService).events.on('obtained', ({ token }) => issued.set(token.accessToken, token));
    gateways.push(gateway);
    return gateway;
  };
  const get = (gateway: Gateway, path: string) => fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': KEY_ALL } });

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    sharedEnv = env();
    redis = new Redis(redisUrl!);
    await startGateway();
    await startGateway();
    await startGateway();
  });

  afterAll(async () => {
    for (const gateway of gateways) await gateway.close().catch(() => undefined);
    await emulators.close();
    redis.disconnect();
    expectNoSecretIn(logs.text(), [sharedEnv.TOKEN_ENCRYPTION_KEY, KEY_ALL, emulators.credentials.prio.clientSecret, ...issued.keys()]);
  });

  it('sends one token request in total for 150 concurrent cold calls spread over three gateways', async () => {
    const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => get(gateways[i % 3], `/prio/echo/${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(150).fill(200));
    expect(emulators.tokenRequests('prio')).toHaveLength(1);
    expect([...issued.values()].filter((t) => t.provider === 'prio')).toHaveLength(1);
  });

  it('keeps tokens encrypted in Redis: no token value in clear', async () => {
    const token = await gateways[0].app.get(TokenService).getToken('prio');
    const keys = await redis.keys('oauth:{prio}:*');
    expect(keys.length).toBeGreaterThan(0);
    const values = await Promise.all(keys.map((k) => redis.get(k)));
    for (const value of values) expect(value ?? '').not.toContain(token.accessToken);
  });

  it('renews once for the whole cluster when the provider revokes the token (upstream 401 on every instance)', async () => {
    const before = emulators.tokenRequests('prio').length;
    emulators.revokeTokens('prio');
    const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => get(gateways[i % 3], '/prio/echo')));
    expect(answers.map((a) => a.status)).toEqual(Array(90).fill(200));
    expect(emulators.tokenRequests('prio').length - before).toBe(1);
  });

  it('lets a restarted instance reuse the shared token without asking the provider', async () => {
    await gateways[2].close();
    const before = emulators.tokenRequests('prio').length;
    const fresh = await startGateway();
    expect((await get(fresh, '/prio/echo')).status).toBe(200);
    expect(emulators.tokenRequests('prio').length).toBe(before);
  });

  it('after a key rotation, a gateway with the new key reads the token sealed with the old one', async () => {
    const rotated = { ...sharedEnv, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'), TOKEN_ENCRYPTION_PREVIOUS_KEYS: sharedEnv.TOKEN_ENCRYPTION_KEY };
    expect((await get(gateways[0], '/prio/echo')).status).toBe(200); // a token sealed with the old key is in Redis
    const before = emulators.tokenRequests('prio').length;
    const gateway = await createGateway(rotated, { port: 0, host: '127.0.0.1', logDestination: logs, oauth: { retry: FAST_RETRY, refresher: { warmOnStart: false } } });
    gateways.push(gateway);
    expect((await get(gateway, '/prio/echo')).status).toBe(200);
    expect(emulators.tokenRequests('prio').length).toBe(before);
  });

  it('reports the shared store in /tokens', async () => {
    const body = (await (await get(gateways[0], '/tokens')).json()) as unknown;
    expect(JSON.stringify(body)).toMatch(/"shared":true/);
    expect(JSON.stringify(body)).toMatch(/"degraded":false/);
  });
});

describeRedis('gateways whose Redis dies mid-run', () => {
  let emulators: ProviderEmulators;
  let redis: PrivateRedisServer;
  const logs = new LogCapture();
  const gateways: Gateway[] = [];
  const get = (gateway: Gateway, path: string) => fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': KEY_ALL } });
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

  it('fails no call while Redis is killed and restarted, reports degraded meanwhile, and recovers by itself', async () => {
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
    // Forced renewals while Redis is away: each gateway fetches for itself, no call fails.
    emulators.revokeTokens('prio');
    await traffic(10);
    expect(emulators.tokenRequests('prio').length).toBeGreaterThan(fetchedBefore);

    redis = await startRedisServer(redis.port);
    await waitUntil(async () => !(await storeOf(gateways[0])).degraded && !(await storeOf(gateways[1])).degraded, 'both gateways to reconnect', 15_000);
    await traffic(5);
    expect(statuses).toHaveLength(80);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  }, 60_000);
});
