import type { OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';

/** Something with a deadline, checked on every sweep. */
export interface Expiring {
  /** `now` is `performance.now()` at this sweep; acts if a deadline passed. */
  expire(now: number): void;
}

/**
 * One interval for every caller deadline (a body that stops arriving or takes too long, a caller
 * that stops reading, a lingering close): a request costs a Set entry while a deadline applies,
 * never a timer of its own. A deadline is met within one period after it passes.
 */
export class DeadlineSweeper implements OnApplicationShutdown {
  /** `performance.now()` at the last sweep: a clock the request path reads for free. */
  now = performance.now();
  private readonly watched = new Set<Expiring>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly periodMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => this.sweep(), periodMs);
    this.timer.unref();
  }

  watch(item: Expiring): void {
    this.watched.add(item);
  }

  unwatch(item: Expiring): void {
    this.watched.delete(item);
  }

  /** How many requests have a deadline running. */
  get size(): number {
    return this.watched.size;
  }

  close(): void {
    clearInterval(this.timer);
  }

  onApplicationShutdown(): void {
    this.close();
  }

  private sweep(): void {
    const now = (this.now = performance.now());
    for (const item of this.watched) {
      try {
        item.expire(now);
      } catch (error) {
        this.watched.delete(item);
        this.onError(error);
      }
    }
  }
}

/** A period short enough to meet the shortest of these deadlines within a tenth of it, and at least 10 ms. */
export function sweepPeriodFor(...deadlinesMs: number[]): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(...deadlinesMs) / 10)));
}
