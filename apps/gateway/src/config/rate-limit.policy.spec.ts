import { describe, expect, it } from '@jest/globals';
import { parseRateLimit } from './rate-limit.policy.js';

describe('parseRateLimit', () => {
  it('reads N/s and N/m into a bucket of N refilled at N per period, with its RateLimit-Policy field', () => {
    expect(parseRateLimit('100/s')).toEqual({
      limit: 100,
      periodMs: 1000,
      text: '100/s',
      header: '"default";q=100;w=1',
      intervalUs: 10_000,
      capacityUs: 1_000_000,
    });
    // 60 s / 7 is not whole: the interval is rounded up, so the rate never exceeds 7 per minute.
    expect(parseRateLimit('7/m')).toMatchObject({
      limit: 7,
      periodMs: 60_000,
      header: '"default";q=7;w=60',
      intervalUs: 8_571_429,
      capacityUs: 60_000_003,
    });
    expect(parseRateLimit('1000000/s')).toMatchObject({ intervalUs: 1 });
  });

  it('refuses anything else', () => {
    for (const bad of ['0/s', '01/s', '100/h', '100 /s', '100/S', '-1/s', '1.5/s', '1000001/s', '/s', '100', '']) {
      expect(parseRateLimit(bad)).toBeUndefined();
    }
  });
});
