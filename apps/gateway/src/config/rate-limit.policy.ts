/**
 * A key's `rateLimit`: at most `limit` requests per period, with bursts of up to `limit` (a bucket
 * of `limit` refilled at `limit` per period), across every provider the key uses.
 */
export interface RateLimitPolicy {
  readonly limit: number;
  readonly periodMs: 1000 | 60_000;
  /** As written: `100/s`, `10/m`. */
  readonly text: string;
  /** `RateLimit-Policy` field value (draft-ietf-httpapi-ratelimit-headers-11 §3), built once. */
  readonly header: string;
  /** GCRA's emission interval in µs: one request's worth of the bucket refills in this long. */
  readonly intervalUs: number;
  /** `limit` intervals: how far ahead of now the bucket's theoretical arrival time may run (a burst of `limit`). */
  readonly capacityUs: number;
}

/** A limit above this per period would not be a limit this gateway can enforce per request anyway. */
export const MAX_RATE_LIMIT = 1_000_000;

const RATE = /^([1-9]\d{0,6})\/([sm])$/;

/** `N/s` or `N/m` (N from 1 to 1,000,000), or undefined when malformed. */
export function parseRateLimit(text: string): RateLimitPolicy | undefined {
  const match = RATE.exec(text);
  if (!match || Number(match[1]) > MAX_RATE_LIMIT) return undefined;
  const limit = Number(match[1]);
  const periodMs = match[2] === 's' ? 1000 : 60_000;
  // Whole microseconds, rounded up: never more than `limit` per period, and the arithmetic stays exact in Lua's doubles too.
  const intervalUs = Math.ceil((periodMs * 1000) / limit);
  return { limit, periodMs, text, header: `"default";q=${limit};w=${periodMs / 1000}`, intervalUs, capacityUs: intervalUs * limit };
}
