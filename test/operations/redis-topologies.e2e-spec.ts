import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster, Redis } from 'ioredis';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { TokenService, type AccessToken } from '@oauth-gateway/oauth-providers';
import { createGateway, type Gateway } from '../../apps/gateway/src/gateway.factory.js';
import { startRedisCluster, startRedisSentinel } from '../../scripts/redis-server.mjs';
import { emulatorEnv, expectNoSecretIn, FAST_RETRY, KEY_ALL, LogCapture } from '../support/gateway-harness.js';

// `npm test` sets TEST_REDIS_URL to a Redis that answers, and TEST_REDIS_CLUSTER when
// redis-server and redis-cli are on PATH to build a Cluster and a Sentinel (both always in CI).
const redisUrl = process.env.TEST_REDIS_URL;
const describeRedis = redisUrl ? describe : describe.skip;
const describeTopologies = process.env.TEST_REDIS_CLUSTER ? describe : describe.skip;

interface Topology {
  /** The gateway variables that point at it. */
  env: Record<string, string>;
  /** Clients on every server that holds data, to look at what the gateways wrote. */
  dataNodes(): Redis[];
  /** A client able to run CLUSTER KEYSLOT, when the topology is a Cluster. */
  cluster?: Cluster;
  stop(): Promise<void>;
}

/** The same scenario for every topology: gateways share tokens through it. */
function sharesTokensThrough(start: () => Promise<Topology>): void {
  let topology: Topology;
  let emulators: ProviderEmulators;
  let env: Record<string, string>;
  const logs = new LogCapture();
  const gateways: Gateway[] = [];
  /** Distinct tokens the gateways obtained (each instance reports the shared one too). */
  const issued = new Map<string, AccessToken>();
  const newKey = randomBytes(32).toString('hex');

  const startGateway = async (gatewayEnv = env) => {
    // No warm-up: the first burst is really cold.
    const gateway = await createGateway(gatewayEnv, {
      port: 0,
      host: '127.0.0.1',
      logDestination: logs,
      oauth: { retry: FAST_RETRY, refresher: { warmOnStart: false } },
    });
    gateway.app.get(TokenService).events.on('obtained', ({ token }) => issued.set(token.accessToken, token));
    gateways.push(gateway);
    return gateway;
  };
  const get = (gateway: Gateway, path: string) => fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': KEY_ALL } });
  const stored = async (pattern: string) => {
    const found: Array<{ key: string; value: string | null }> = [];
    for (const node of topology.dataNodes()) {
      for (const key of await node.keys(pattern)) found.push({ key, value: await node.get(key) });
    }
    return found;
  };

  beforeAll(async () => {
    topology = await start();
    emulators = await startProviderEmulators();
    env = { ...emulatorEnv(emulators), ...topology.env, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    for (let i = 0; i < 3; i++) await startGateway();
  }, 60_000);

  afterAll(async () => {
    for (const gateway of gateways) await gateway.close().catch(() => undefined);
    await emulators?.close();
    await topology?.stop();
    expectNoSecretIn(logs.text(), [env.TOKEN_ENCRYPTION_KEY, newKey, KEY_ALL, emulators.credentials.sabre.clientSecret, ...issued.keys()]);
  });

  it('sends one token request in total for 150 concurrent cold calls spread over three gateways', async () => {
    const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => get(gateways[i % 3], `/sabre/echo/${i}`)));
    expect(answers.map((a) => a.status)).toEqual(Array(150).fill(200));
    expect(emulators.tokenRequests('sabre')).toHaveLength(1);
    expect([...issued.values()].filter((t) => t.provider === 'sabre')).toHaveLength(1);
  });

  it("keeps one provider's keys encrypted, and on a Cluster in one hash slot", async () => {
    const entries = await stored('oauth:{sabre}:*');
    expect(entries.length).toBeGreaterThan(0);
    if (topology.cluster) {
      const slots = new Set(await Promise.all(entries.map(({ key }) => topology.cluster!.cluster('KEYSLOT', key))));
      expect(slots.size).toBe(1);
    }
    for (const { value } of entries) {
      for (const accessToken of issued.keys()) expect(value ?? '').not.toContain(accessToken);
    }
  });

  it('renews once for the whole fleet when the provider revokes the token (upstream 401 on every instance)', async () => {
    const before = emulators.tokenRequests('sabre').length;
    emulators.revokeTokens('sabre');
    const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => get(gateways[i % 3], '/sabre/echo')));
    expect(answers.map((a) => a.status)).toEqual(Array(90).fill(200));
    expect(emulators.tokenRequests('sabre').length - before).toBe(1);
  });

  it('after a key rotation, a gateway with the new key reads the token sealed with the old one', async () => {
    expect((await get(gateways[0], '/sabre/echo')).status).toBe(200); // a token sealed with the old key is stored
    const before = emulators.tokenRequests('sabre').length;
    const rotated = { ...env, TOKEN_ENCRYPTION_KEY: newKey, TOKEN_ENCRYPTION_PREVIOUS_KEYS: env.TOKEN_ENCRYPTION_KEY };
    const gateway = await startGateway(rotated);
    expect((await get(gateway, '/sabre/echo')).status).toBe(200);
    expect(emulators.tokenRequests('sabre').length).toBe(before);
  });

  it('lets a new gateway reuse the shared token without asking the provider', async () => {
    const before = emulators.tokenRequests('sabre').length;
    const fresh = await startGateway();
    expect((await get(fresh, '/sabre/echo')).status).toBe(200);
    expect(emulators.tokenRequests('sabre').length).toBe(before);
    const status = (await (await get(fresh, '/tokens')).json()) as { providers: Array<{ provider: string; store: unknown }> };
    expect(status.providers.find((p) => p.provider === 'sabre')?.store).toEqual({ shared: true, degraded: false });
  });
}

describeRedis('several gateways against one Redis server (REDIS_URL)', () => {
  sharesTokensThrough(async () => {
    const server = new Redis(redisUrl!);
    return { env: { REDIS_URL: redisUrl! }, dataNodes: () => [server], stop: async () => void server.disconnect() };
  });
});

describeTopologies('several gateways against a real Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  sharesTokensThrough(async () => {
    const servers = await startRedisCluster(3);
    const cluster = new Cluster(servers.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    return {
      env: { REDIS_CLUSTER_NODES: servers.nodes.join(',') },
      dataNodes: () => cluster.nodes('master'),
      cluster,
      stop: async () => {
        cluster.disconnect();
        await servers.stop();
      },
    };
  });
});

describeTopologies('several gateways behind a real Redis Sentinel (REDIS_SENTINELS)', () => {
  sharesTokensThrough(async () => {
    const servers = await startRedisSentinel('tokens');
    const master = new Redis(servers.master.url);
    return {
      env: { REDIS_SENTINELS: servers.sentinels.join(','), REDIS_SENTINEL_NAME: servers.name },
      dataNodes: () => [master],
      stop: async () => {
        master.disconnect();
        await servers.stop();
      },
    };
  });
});
