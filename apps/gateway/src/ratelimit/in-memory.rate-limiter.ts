import { performance } from 'node:perf_hooks';
import type { Caller } from '../auth/api-keys.js';
import { gcraStep } from './rate-limit.gcra.js';
import type { RateDecision, RateLimiter } from './rate-limiter.interface.js';

/** Milliseconds on a monotonic clock. */
export type Clock = () => number;

/**
 * Rate limits kept in this process: one theoretical arrival time per bucket (per key and limit).
 * Used alone without Redis, and by every instance on its own while Redis is unreachable.
 */
export class InMemoryRateLimiter implements RateLimiter {
  readonly shared = false;
  private readonly tats = new Map<string, number>();
  /** Full buckets are forgotten when the map reaches this size: memory stays in proportion to the keys in use. */
  private pruneAt = 1024;

  constructor(private readonly clock: Clock = () => performance.now()) {}

  isDegraded(): boolean {
    return false;
  }

  take(caller: Caller): RateDecision {
    const now = Math.round(this.clock() * 1000);
    const step = gcraStep(this.tats.get(caller.bucket) ?? now, now, caller.rateLimit!);
    if (step.allowed) this.tats.set(caller.bucket, step.tat);
    if (this.tats.size >= this.pruneAt) this.prune();
    return step;
  }

  prune(): void {
    const now = Math.round(this.clock() * 1000);
    for (const [bucket, tat] of this.tats) if (tat <= now) this.tats.delete(bucket);
    this.pruneAt = Math.max(1024, 2 * this.tats.size);
  }

  /** Buckets currently remembered (tests). */
  get size(): number {
    return this.tats.size;
  }
}
