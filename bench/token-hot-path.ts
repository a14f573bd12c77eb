import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { NestFactory } from '@nestjs/core';
import { InMemoryTokenStore, OAuthModule, TokenService, type TokenStore, type TokenStrategy } from '@oauth-gateway/oauth-providers';
import { createRedisConnection, RedisTokenStore } from '@oauth-gateway/oauth-providers/redis';

/** A strategy that never needs the network after the first token: the hot path is all we measure. */
const strategy = (identity = 'bench'): TokenStrategy => ({
  name: 'bench',
  identity,
  requestToken: async () => ({ accessToken: `bench-token-${identity}`, expiresIn: 3600 }),
});

export interface MeasureHooks {
  /** Identity of the bench strategy (a unique one keeps a shared store's earlier entries out). */
  identity?: string;
  /** After the first token (the cache is warm), before the warm-up and the timed run. */
  afterFirstToken?: () => void | Promise<void>;
  /** After the timed run, with the service (to clean a shared store up); the store is closed with the app afterwards. */
  afterRun?: (tokens: TokenService) => void | Promise<void>;
}

/** `await tokens.getToken()` on a warm cache, ops/s over `durationMs` after a warm-up; the service built by OAuthModule, as an app gets it. */
export async function measureGetToken(store: TokenStore, durationMs = 1500, hooks: MeasureHooks = {}): Promise<number> {
  const app = await NestFactory.createApplicationContext(
    OAuthModule.forRoot({ providers: [strategy(hooks.identity)], store, refresher: { enabled: false } }),
    { logger: false },
  );
  const tokens = app.get(TokenService);
  await tokens.getToken('bench');
  await hooks.afterFirstToken?.();
  const run = async (ms: number) => {
    let ops = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let i = 0; i < 10_000; i++) await tokens.getToken('bench');
      ops += 10_000;
    }
    return ops;
  };
  await run(300);
  const started = performance.now();
  const ops = await run(durationMs);
  const opsPerSec = Math.round(ops / ((performance.now() - started) / 1000));
  await hooks.afterRun?.(tokens);
  await app.close();
  return opsPerSec;
}

export interface RedisHotPath {
  opsPerSec: number;
  /** Redis commands this client sent during the warm-up and the timed run: 0 when the local copy serves. */
  redisCommands: number;
}

/**
 * The same loop with a `RedisTokenStore` in front of `redisUrl`: the token comes from Redis once,
 * then the service's local copy must serve every call. Undefined (with why) when Redis is not there.
 */
export async function measureGetTokenRedis(
  redisUrl = 'redis://127.0.0.1:6379',
  durationMs = 1500,
): Promise<RedisHotPath | { skipped: string }> {
  const client = createRedisConnection({ url: redisUrl }) as Redis;
  client.on('error', () => undefined);
  try {
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!ready) return { skipped: `no Redis at ${redisUrl}` };
    // Every ioredis command goes through sendCommand: count what this client sends.
    let sent = 0;
    const send = client.sendCommand.bind(client);
    client.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
      sent++;
      return send(...args);
    };
    // Without the idle store's heartbeat: the run counts the commands of the hot path alone.
    const store = new RedisTokenStore(client, { heartbeatMs: 0 });
    let before = 0;
    const opsPerSec = await measureGetToken(store, durationMs, {
      identity: `bench-${process.pid}-${Date.now()}`,
      afterFirstToken: () => {
        before = sent;
      },
      afterRun: async (tokens) => {
        const during = sent - before;
        before = during;
        await tokens.invalidate('bench'); // deletes the entry it stored
      },
    });
    return { opsPerSec, redisCommands: before };
  } finally {
    await client.quit().catch(() => client.disconnect());
  }
}

export interface HotPathResult {
  inMemory: number;
  redis: RedisHotPath | { skipped: string };
}

export async function measureHotPath(durationMs = 1500): Promise<HotPathResult> {
  const inMemory = await measureGetToken(new InMemoryTokenStore(), durationMs);
  const redis = await measureGetTokenRedis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', durationMs);
  return { inMemory, redis };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureHotPath();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    console.log(`getToken (in-memory): ${result.inMemory.toLocaleString()} ops/s`);
    if ('skipped' in result.redis) console.log(`getToken (Redis-backed): skipped, ${result.redis.skipped}`);
    else
      console.log(
        `getToken (Redis-backed, local copy): ${result.redis.opsPerSec.toLocaleString()} ops/s, ${result.redis.redisCommands} Redis commands during the run`,
      );
  }
  process.exit(0);
}
