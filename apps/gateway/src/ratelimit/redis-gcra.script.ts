import type { Cluster, Redis } from 'ioredis';
import type { RateLimitPolicy } from '../config/rate-limit.policy.js';
import type { RateDecision } from './rate-limiter.interface.js';

// KEYS[1] the key's bucket; ARGV interval µs, capacity µs, the caller's deadline on the server's clock
// in µs (0: none). The step of rate-limit.gcra.ts, atomically, on the server's clock (TIME), so every
// instance measures time alike; the bucket expires once full again. A script the server runs after
// its caller gave up (a hung server resuming) changes nothing: that request was limited locally.
const GCRA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local deadline = tonumber(ARGV[3])
if deadline > 0 and now > deadline then return {-1, 0, 0, now} end
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local ahead = tat + interval - now
if ahead > capacity then return {0, 0, ahead - capacity, now} end
redis.call('SET', KEYS[1], string.format('%.0f', tat + interval), 'PX', math.ceil(ahead / 1000) + 1)
return {1, math.floor((capacity - ahead) / interval), 0, now}`;

interface GcraCommand {
  gatewayRateLimit(bucket: string, intervalUs: number, capacityUs: number, deadlineUs: number): Promise<[number, number, number, number]>;
}

/** Round trips slower than this do not update the estimate of the server's clock. */
const OFFSET_SAMPLE_MAX_RTT_MS = 50;

/**
 * One GCRA step on Redis, given the caller's deadline. The deadline is written on the server's
 * clock: the offset between this process's clock and Redis `TIME` is measured on every quick
 * answer (within half its round trip), so clocks need not agree.
 */
export class RedisGcra {
  private readonly command: GcraCommand;
  /** Redis time minus this process's time, in µs; unknown until Redis has answered once. */
  private offsetUs?: number;

  constructor(client: Redis | Cluster) {
    // ioredis runs it with EVALSHA, loading the script again after a restart (NOSCRIPT).
    if (!('gatewayRateLimit' in client)) client.defineCommand('gatewayRateLimit', { numberOfKeys: 1, lua: GCRA });
    this.command = client as unknown as GcraCommand;
  }

  /** The decision, or undefined when Redis ran the step after `deadlineMs` (this process's ms since the epoch). */
  async step(bucket: string, policy: RateLimitPolicy, deadlineMs: number): Promise<RateDecision | undefined> {
    const sentAt = Date.now();
    const deadlineUs = this.offsetUs === undefined ? 0 : Math.round(deadlineMs * 1000 + this.offsetUs);
    const [allowed, remaining, waitUs, serverUs] = await this.command.gatewayRateLimit(
      bucket,
      policy.intervalUs,
      policy.capacityUs,
      deadlineUs,
    );
    const answeredAt = Date.now();
    if (answeredAt - sentAt <= OFFSET_SAMPLE_MAX_RTT_MS) this.offsetUs = serverUs - ((sentAt + answeredAt) / 2) * 1000;
    if (allowed === -1) return undefined;
    return { allowed: allowed === 1, remaining, waitMs: waitUs / 1000 };
  }
}
