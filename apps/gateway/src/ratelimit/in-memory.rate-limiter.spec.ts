import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Caller } from '../auth/api-keys.js';
import { InMemoryRateLimiter } from './in-memory.rate-limiter.js';
import { parseRateLimit } from '../config/rate-limit.policy.js';

const caller = (name: string, limit: string) => new Caller(name, '*', parseRateLimit(limit));

/** A limiter on a clock the test moves (milliseconds). */
function limiterAt(start = 1_000_000) {
  const clock = { ms: start };
  return { clock, limiter: new InMemoryRateLimiter(() => clock.ms) };
}

describe('InMemoryRateLimiter', () => {
  it('admits a burst of N, then one request per interval, telling how long to wait', () => {
    const { clock, limiter } = limiterAt();
    const partner = caller('partner-a', '5/s');
    const burst = Array.from({ length: 5 }, () => limiter.take(partner));
    expect(burst.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    const refused = limiter.take(partner);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, waitMs: 200 });
    clock.ms += 199;
    expect(limiter.take(partner).allowed).toBe(false);
    clock.ms += 1;
    expect(limiter.take(partner)).toMatchObject({ allowed: true, remaining: 0 });
    clock.ms += 1000; // a full period later the bucket is full again
    expect(limiter.take(partner)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('keeps one bucket per key, and another when the limit of a key changes', () => {
    const { limiter } = limiterAt();
    const a = caller('a', '1/m');
    expect(limiter.take(a).allowed).toBe(true);
    expect(limiter.take(a).allowed).toBe(false);
    expect(limiter.take(caller('b', '1/m')).allowed).toBe(true);
    expect(limiter.take(caller('a', '2/m')).allowed).toBe(true);
  });

  it('forgets full buckets when pruned, and only those', () => {
    const { clock, limiter } = limiterAt();
    limiter.take(caller('slow', '1/m'));
    limiter.take(caller('fast', '10/s'));
    clock.ms += 100;
    limiter.prune();
    expect(limiter.size).toBe(1);
    expect(limiter.take(caller('slow', '1/m')).allowed).toBe(false);
  });

  it('never admits more than N + rate × elapsed, whatever the arrival pattern', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom<'s' | 'm'>('s', 'm'),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 300 }),
        (limit, unit, gaps) => {
          const { clock, limiter } = limiterAt();
          const key = caller('k', `${limit}/${unit}`);
          const periodMs = unit === 's' ? 1000 : 60_000;
          const admitted: number[] = [];
          for (const gap of gaps) {
            clock.ms += unit === 's' ? gap / 10 : gap * 6;
            if (limiter.take(key).allowed) admitted.push(clock.ms);
          }
          // Every window of admissions [first, last] holds at most N + rate × its length.
          for (let i = 0; i < admitted.length; i++) {
            for (let j = i; j < admitted.length; j++) {
              expect(j - i + 1).toBeLessThanOrEqual(limit + Math.floor(((admitted[j] - admitted[i]) * limit) / periodMs));
            }
          }
          // And it is a limit, not a wall: the first N in a row are admitted.
          expect(admitted.length).toBeGreaterThanOrEqual(Math.min(limit, gaps.length));
        },
      ),
    );
  });
});
