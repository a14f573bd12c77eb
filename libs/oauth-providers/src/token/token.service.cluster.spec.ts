import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Cluster, Redis } from 'ioredis';
import { startRedisServer } from '../../../../scripts/redis-server.mjs';
import { resolveOptions, type OAuthModuleOptions } from '../oauth.options.js';
import type { TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { createRedisConnection } from '../stores/redis-connection.js';
import { RedisTokenStore } from '../stores/redis-token.store.js';
import { countingStrategy, startCountingTokenServer, type CountingTokenServer } from '../../test-support/counting-token-server.js';
import { axiosTokenHttpClient } from '../../test-support/strategy-context.js';
import type { ClusterWorkerConfig, ClusterWorkerMessage } from '../../test-support/redis-cluster-worker.js';
import { connectRedis, uniqueName } from '../../test-support/redis-test-helpers.js';
import { TokenService } from './token.service.js';
import { waitUntil } from '../../../../test/support/helpers.js';

const describeRedis = process.env.TEST_REDIS_URL ? describe : describe.skip;

const encryptionKey = randomBytes(32).toString('base64');
const http = axiosTokenHttpClient();

/** One gateway instance: its own TokenService, RedisTokenStore and Redis connection. */
interface Instance {
  service: TokenService;
  store: RedisTokenStore;
  redis: Redis | Cluster;
}

describeRedis('TokenService on a shared Redis store (several instances)', () => {
  const redisUrl = process.env.TEST_REDIS_URL!;
  let server: CountingTokenServer;
  let provider: string;
  let instances: Instance[] = [];

  async function instance(
    options: Partial<OAuthModuleOptions> & { redis?: Redis | Cluster; strategy?: TokenStrategy } = {},
  ): Promise<Instance> {
    const { redis = await connectRedis(redisUrl), strategy = countingStrategy(server.url, provider), ...moduleOptions } = options;
    const store = new RedisTokenStore(redis, { encryptionKey });
    const service = new TokenService(resolveOptions({ providers: [], ...moduleOptions }), store, http);
    service.register(strategy);
    const created = { service, store, redis };
    instances.push(created);
    return created;
  }

  async function stop(i: Instance): Promise<void> {
    instances = instances.filter((other) => other !== i);
    await i.store.close();
    i.redis.disconnect();
  }

  beforeEach(async () => {
    server = await startCountingTokenServer({ delayMs: 50 });
    provider = uniqueName('cluster');
  });

  afterEach(async () => {
    await Promise.all(instances.map(stop));
    await server.close();
  });

  it('sends one token request for 150 concurrent cold callers spread over 3 instances', async () => {
    const group = await Promise.all([instance(), instance(), instance()]);
    const calls = Array.from({ length: 150 }, (_, n) => group[n % 3].service.getToken(provider));
    const tokens = await Promise.all(calls);
    expect(server.requests).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  });

  it('sends one token request for callers in 3 separate OS processes', async () => {
    const config: ClusterWorkerConfig = { redisUrl, tokenUrl: server.url, provider, encryptionKey, callers: 50 };
    const children = Array.from({ length: 3 }, () =>
      fork(fileURLToPath(new URL('../../test-support/redis-cluster-worker.ts', import.meta.url)), [JSON.stringify(config)], {
        execArgv: ['--import', fileURLToPath(new URL('../../test-support/ts-register.mjs', import.meta.url))],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const next = (child: (typeof children)[number]) =>
      new Promise<ClusterWorkerMessage>((resolve, reject) => {
        child.once('message', (m) => resolve(m as ClusterWorkerMessage));
        child.once('exit', (code) => reject(new Error(`worker exited (${code}) before answering`)));
      });
    try {
      // All three load and connect first, then start together: a race in one instant.
      expect(await Promise.all(children.map(next))).toEqual(children.map(() => ({ type: 'ready' })));
      const results = Promise.all(children.map(next));
      children.forEach((child) => child.send('go'));
      const answers = await results;
      const tokens = answers.flatMap((a) => (a.type === 'result' ? a.accessTokens : [a.type === 'error' ? a.message : '']));
      expect(new Set(tokens).size).toBe(1);
      expect(server.requests).toBe(1);
    } finally {
      children.forEach((child) => child.kill());
    }
  }, 60_000);

  it('takes over after the lock TTL when the lock holder dies mid-renewal', async () => {
    let holderAsked = false;
    const hangs: TokenStrategy = {
      name: provider,
      identity: countingStrategy(server.url, provider).identity, // the same shared key
      requestToken: () => {
        holderAsked = true;
        return new Promise(() => undefined); // the process died waiting: it never releases
      },
    };
    // Lock TTL = retry.maxTotalMs + requestTimeoutMs = 500 ms.
    const holder = await instance({ strategy: hangs, retry: { maxTotalMs: 300 }, requestTimeoutMs: 200 });
    void holder.service.getToken(provider);
    await waitUntil(() => holderAsked, 'the holder to take the lock and call its token endpoint');
    const lockedAt = Date.now();
    await stop(holder);

    const survivor = await instance({ clusterWaitMs: 20_000 });
    const token = await survivor.service.getToken(provider);
    expect(token.accessToken).toMatch(/^at-1-/);
    expect(server.requests).toBe(1);
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(450); // not before the lock expired
    expect(Date.now() - lockedAt).toBeLessThan(10_000); // nor after the whole clusterWaitMs
  });

  it('renews once in total when one instance invalidates the shared token and every instance then sees it fail', async () => {
    // The token is refused right after it was obtained: no pacing of renewals in the way.
    const unpaced = { minRequestIntervalMs: 0 };
    const group = await Promise.all([instance(unpaced), instance(unpaced), instance(unpaced)]);
    const [first] = await Promise.all(group.map((i) => i.service.getToken(provider)));
    await group[0].service.invalidate(provider, first.accessToken);

    // Every instance's callers got a 401 with the old token: each invalidates it, then asks again.
    const calls = group.flatMap((i) =>
      Array.from({ length: 20 }, async () => {
        await i.service.invalidate(provider, first.accessToken);
        return i.service.getToken(provider);
      }),
    );
    const tokens = await Promise.all(calls);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokens[0].accessToken).not.toBe(first.accessToken);
    expect(server.requests).toBe(2);
  });

  it('a restarted instance reuses the shared token: no token request', async () => {
    const before = await instance();
    const token = await before.service.getToken(provider);
    await stop(before);

    const restarted = await instance();
    expect((await restarted.service.getToken(provider)).accessToken).toBe(token.accessToken);
    expect(server.requests).toBe(1);
  });

  describe('when Redis dies mid-run', () => {
    let redis: Awaited<ReturnType<typeof startRedisServer>>;
    afterAll(async () => {
      await redis?.stop();
    });

    it('keeps serving from local copies and own fetches, then reconnects by itself', async () => {
      redis = await startRedisServer();
      const connect = () => connectRedis(redis.url);
      // b invalidates a token it adopted moments before: no pacing of renewals in the way.
      const [a, b] = await Promise.all([
        instance({ redis: await connect() }),
        instance({ redis: await connect(), minRequestIntervalMs: 0 }),
      ]);
      const first = await a.service.getToken(provider);
      expect((await b.service.getToken(provider)).accessToken).toBe(first.accessToken);
      expect(server.requests).toBe(1);

      await redis.stop();
      await waitUntil(() => a.store.isDegraded() && b.store.isDegraded(), 'both stores to notice the outage');

      const started = Date.now();
      expect(await a.service.getToken(provider)).toBe(first); // local copy, no I/O
      const cold = await instance({ redis: createRedisConnection({ url: redis.url }).on('error', () => undefined) });
      expect((await cold.service.getToken(provider)).accessToken).not.toBe(first.accessToken); // fetched itself
      await b.service.invalidate(provider, first.accessToken);
      expect((await b.service.getToken(provider)).accessToken).not.toBe(first.accessToken);
      expect(Date.now() - started).toBeLessThan(3000); // every Redis call failed fast
      expect(server.requests).toBe(3);
      expect(b.service.status()[0].store).toEqual({ shared: true, degraded: true });

      redis = await startRedisServer(redis.port);
      await waitUntil(() => ![a, b, cold].some((i) => i.store.isDegraded()), 'every store to reconnect', 15_000);
      // The store is in use again: a renewal lands in Redis, where a new instance finds it.
      const renewed = await a.service.getToken(provider, { forceRefresh: true });
      const late = await instance({ redis: await connect() });
      expect((await late.service.getToken(provider)).accessToken).toBe(renewed.accessToken);
      expect(server.requests).toBe(4);
      expect(a.service.status()[0].store).toEqual({ shared: true, degraded: false });
    }, 60_000);
  });
});
