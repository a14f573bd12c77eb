import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { commandTimeoutOf, RedisCommandHealth } from '@oauth-gateway/oauth-providers/redis';
import type { Caller } from '../auth/api-keys.js';
import type { Clock, InMemoryRateLimiter } from './in-memory.rate-limiter.js';
import type { RateDecision, RateLimiter } from './rate-limiter.interface.js';
import { RedisGcra } from './redis-gcra.script.js';

/** After a failed command, one request at most per this interval tests Redis again (the probe). */
const PROBE_EVERY_MS = 1000;

export interface RedisRateLimiterOptions {
  /** Monotonic ms, for the probe's spacing. */
  clock?: Clock;
  /** The client's command timeout (read from the client by default): a script Redis runs later than this after it was sent does nothing. */
  commandTimeoutMs?: number;
}

/**
 * Rate limits shared by every instance: one Lua script per request of a limited key, on the
 * connection the token store uses. The bucket's key carries the `{name}` hash tag (see `Caller`).
 * A breaker keeps callers off a failing Redis: after a failure, requests are limited locally at
 * once (each instance applies the full limits on its own with `local`, and reports degraded), and
 * one request at a time, once a second, tries Redis again; the first that succeeds closes it.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly shared = true;
  /** Whether Redis answers the limiter: its log lines, timeouts and `isDegraded()`. */
  readonly health: RedisCommandHealth;
  private readonly gcra: RedisGcra;
  private readonly clock: Clock;
  private readonly commandTimeoutMs: number;
  private failedAt?: number;
  private probing = false;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly local: InMemoryRateLimiter,
    options: RedisRateLimiterOptions = {},
  ) {
    this.gcra = new RedisGcra(client);
    this.health = new RedisCommandHealth('rate_limit', client, new Logger('RateLimiter'));
    this.clock = options.clock ?? (() => performance.now());
    this.commandTimeoutMs = options.commandTimeoutMs ?? commandTimeoutOf(client) ?? 200;
  }

  isDegraded(): boolean {
    return this.health.isDegraded();
  }

  async take(caller: Caller): Promise<RateDecision> {
    if (this.client.status !== 'ready') return this.local.take(caller);
    const probe = this.failedAt !== undefined;
    if (probe && (this.probing || this.clock() - this.failedAt! < PROBE_EVERY_MS)) return this.local.take(caller);
    this.probing = probe;
    try {
      const decision = await this.health.run(() => this.gcra.step(caller.bucket, caller.rateLimit!, Date.now() + this.commandTimeoutMs));
      this.failedAt = undefined;
      return decision ?? this.local.take(caller);
    } catch {
      this.failedAt = this.clock();
      return this.local.take(caller);
    } finally {
      if (probe) this.probing = false;
    }
  }

  prune(): void {
    this.local.prune();
  }
}
