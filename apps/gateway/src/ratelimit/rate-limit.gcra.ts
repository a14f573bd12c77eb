import type { RateLimitPolicy } from '../config/rate-limit.policy.js';
import type { RateDecision } from './rate-limiter.interface.js';

/**
 * One step of GCRA, the generic cell rate algorithm (ITU-T I.371; the token bucket seen through
 * one timestamp per key): `tat` is the bucket's theoretical arrival time, the instant it would be
 * full again; a request is admitted when taking one interval does not push `tat` more than the
 * capacity (`limit` intervals) ahead of `now`. Times in µs. `redis.rate-limiter.ts` runs the
 * same step in Lua, next to the stored `tat`.
 */
export function gcraStep(tat: number, now: number, policy: RateLimitPolicy): RateDecision & { tat: number } {
  const next = Math.max(tat, now) + policy.intervalUs;
  const ahead = next - now;
  if (ahead > policy.capacityUs) return { allowed: false, remaining: 0, waitMs: (ahead - policy.capacityUs) / 1000, tat };
  return { allowed: true, remaining: Math.floor((policy.capacityUs - ahead) / policy.intervalUs), waitMs: 0, tat: next };
}
