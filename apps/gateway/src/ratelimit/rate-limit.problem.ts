import { ProblemError } from '../problem/problem.js';
import type { RateLimitPolicy } from '../config/rate-limit.policy.js';
import type { RateDecision } from './rate-limiter.interface.js';

/**
 * 429 `rate_limited` with `Retry-After` and the `RateLimit-Policy` / `RateLimit` fields of
 * draft-ietf-httpapi-ratelimit-headers-11 (§3, §4): nothing left (`r=0`), and more in `t` seconds,
 * which `Retry-After` repeats (§6: it must not point earlier than that).
 */
export function rateLimitedProblem(policy: RateLimitPolicy, decision: RateDecision, provider: string): ProblemError {
  const seconds = Math.max(1, Math.ceil(decision.waitMs / 1000));
  return new ProblemError('rate_limited', {
    provider,
    detail: `this API key may make ${policy.text} requests (burst ${policy.limit}); retry in ${seconds} s`,
    retryAfter: seconds,
    headers: { 'ratelimit-policy': policy.header, ratelimit: `"default";r=0;t=${seconds}` },
  });
}
