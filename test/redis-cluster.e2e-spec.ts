import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { startProviderEmulators, type ProviderEmulators } from '#provider-emulators';
import { TokenService } from '#oauth-providers';
import { createGateway, type Gateway } from '../apps/gateway/src/gateway.factory.js';
import { startRedisCluster, type PrivateRedisCluster } from '../scripts/redis-server.mjs';
import { emulatorEnv, expectNoSecretIn, FAST_RETRY, KEY_ALL, LogCapture } from './support/gateway-harness.js';

// `npm test` sets TEST_REDIS_CLUSTER when redis-server and redis-cli are on PATH (always in CI).
const describeCluster = process.env.TEST_REDIS_CLUSTER ? describe : describe.skip;

describeCluster('several gateways against a real Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let cluster: PrivateRedisCluster;
  let emulators: ProviderEmulators;
  let inspector: Cluster;
  let env: Record<string, string>;
  const logs = new LogCapture();
  const gateways: Gateway[] = [];
  const issued = new Set<string>();

  const startGateway = async () => {
    const gateway = await createGateway(env, { port: 0, host: '127.0.0.1', logDestination: logs, oauth: { retry: FAST_RETRY } });
    gateway.app.get(TokenService).events.on('obtained', ({ token }) => issued.add(token.accessToken));
    gateways.push(gateway);
    return gateway;
  };
  const get = (gateway: Gateway, path: string) => fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': KEY_ALL } });
  /** Every key of the cluster matching `pattern`, with its value, read from each master. */
  const entries = async (pattern: string) => {
    const found: Array<{ key: string; value: string | null }> = [];
    for (const node of inspector.nodes('master')) {
      for (const key of await node.keys(pattern)) found.push({ key, value: await node.get(key) });
    }
    return found;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    emulators = await startProviderEmulators();
    env = {
      ...emulatorEnv(emulators),
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
    inspector = new Cluster(cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    await startGateway();
    await startGateway();
  }, 60_000);

  afterAll(async () => {
    for (const gateway of gateways) await gateway.close().catch(() => undefined);
    inspector?.disconnect();
    await emulators?.close();
    await cluster?.stop();
    expectNoSecretIn(logs.text(), [env.TOKEN_ENCRYPTION_KEY, KEY_ALL, emulators.credentials.sabre.clientSecret, ...issued]);
  });

  it('sends one token request in total for 100 concurrent cold calls spread over two gateways', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => get(gateways[i % 2], `/sabre/echo/${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));
    expect(emulators.tokenRequests('sabre')).toHaveLength(1);
    expect(issued.size).toBe(1);
  });

  it("keeps one provider's keys in one hash slot, encrypted", async () => {
    const stored = await entries('oauth:{sabre}:*');
    expect(stored.length).toBeGreaterThan(0);
    const slots = new Set(await Promise.all(stored.map(({ key }) => inspector.cluster('KEYSLOT', key))));
    expect(slots.size).toBe(1);
    for (const { value } of stored) {
      for (const token of issued) expect(value ?? '').not.toContain(token);
    }
  });

  it('renews once for every gateway when the provider revokes the token', async () => {
    const before = emulators.tokenRequests('sabre').length;
    emulators.revokeTokens('sabre');
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => get(gateways[i % 2], '/sabre/echo')));
    expect(answers.map((a) => a.status)).toEqual(Array(60).fill(200));
    expect(emulators.tokenRequests('sabre').length - before).toBe(1);
  });

  it('lets a new gateway reuse the shared token without asking the provider', async () => {
    const before = emulators.tokenRequests('sabre').length;
    const fresh = await startGateway();
    expect((await get(fresh, '/sabre/echo')).status).toBe(200);
    expect(emulators.tokenRequests('sabre').length).toBe(before);
    const status = (await (await get(fresh, '/tokens')).json()) as { providers: Array<{ provider: string; store: unknown }> };
    expect(status.providers.find((p) => p.provider === 'sabre')?.store).toEqual({ shared: true, degraded: false });
  });
});
