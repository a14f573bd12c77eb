import { performance } from 'node:perf_hooks';
import type { Cluster, Redis } from 'ioredis';
import type { Caller } from '../auth/api-keys.js';
import type { Clock, InMemoryRateLimiter } from './in-memory.rate-limiter.js';
import type { RateDecision, RateLimiter } from './rate-limiter.interface.js';

// KEYS[1] the key's bucket; ARGV interval µs, capacity µs. The step of rate-limit.gcra.ts, atomically, on the
// server's clock (TIME), so every instance measures time alike; the bucket expires once full again.
const GCRA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local ahead = tat + interval - now
if ahead > capacity then return {0, 0, ahead - capacity} end
redis.call('SET', KEYS[1], string.format('%.0f', tat + interval), 'PX', math.ceil(ahead / 1000) + 1)
return {1, math.floor((capacity - ahead) / interval), 0}`;

interface GcraCommand {
  gatewayRateLimit(bucket: string, intervalUs: number, capacityUs: number): Promise<[number, number, number]>;
}

/** After a failed command, Redis is left alone this long: requests are limited locally meanwhile. */
const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * Rate limits shared by every instance: one Lua script per request of a limited key, on the
 * connection the token store uses. The bucket's key carries the `{name}` hash tag (see `Caller`).
 * When Redis is unreachable (not connected, or a command failed within the last second), each
 * instance applies the full limits on its own with `local` and reports degraded; it goes back to
 * Redis by itself.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly shared = true;
  private readonly command: GcraCommand;
  private failedAt?: number;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly local: InMemoryRateLimiter,
    private readonly clock: Clock = () => performance.now(),
  ) {
    // ioredis runs it with EVALSHA, loading the script again after a restart (NOSCRIPT).
    if (!('gatewayRateLimit' in client)) client.defineCommand('gatewayRateLimit', { numberOfKeys: 1, lua: GCRA });
    this.command = client as unknown as GcraCommand;
    client.on('ready', () => (this.failedAt = undefined));
  }

  isDegraded(): boolean {
    return this.client.status !== 'ready' || this.failedAt !== undefined;
  }

  async take(caller: Caller): Promise<RateDecision> {
    if (this.client.status !== 'ready' || (this.failedAt !== undefined && this.clock() - this.failedAt < RETRY_AFTER_FAILURE_MS)) {
      return this.local.take(caller);
    }
    const policy = caller.rateLimit!;
    try {
      const [allowed, remaining, waitUs] = await this.command.gatewayRateLimit(caller.bucket, policy.intervalUs, policy.capacityUs);
      this.failedAt = undefined;
      return { allowed: allowed === 1, remaining, waitMs: waitUs / 1000 };
    } catch {
      this.failedAt = this.clock();
      return this.local.take(caller);
    }
  }

  prune(): void {
    this.local.prune();
  }
}
