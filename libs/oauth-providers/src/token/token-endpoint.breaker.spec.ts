import { describe, expect, it } from '@jest/globals';
import { rejected, unavailable } from '../../test-support/scripted-strategy.js';
import { TokenEndpointBreaker } from './token-endpoint.breaker.js';

const T0 = Date.UTC(2026, 0, 1);

function breaker(options: { rejectedCooldownMs?: number; failureThreshold?: number; openMs?: number; maxOpenMs?: number } = {}) {
  return new TokenEndpointBreaker({
    rejectedCooldownMs: options.rejectedCooldownMs ?? 30_000,
    circuit: { failureThreshold: options.failureThreshold ?? 3, openMs: options.openMs ?? 5000, maxOpenMs: options.maxOpenMs ?? 60_000 },
  });
}

/** A renewal made of `calls` failed calls, all with `error`, ending at `at`. */
function failRenewal(b: TokenEndpointBreaker, error: ReturnType<typeof unavailable>, at: number, calls = 1) {
  for (let i = 0; i < calls; i++) b.callFailed(error);
  return b.renewalFailed(error, at);
}

describe('TokenEndpointBreaker', () => {
  describe('cool-down after a rejection', () => {
    it('replays the rejection with the time left until the cool-down ends, then lets the endpoint be asked again', () => {
      const b = breaker({ rejectedCooldownMs: 30_000 });
      const outcome = failRenewal(b, rejected('acme'), T0);
      expect(outcome).toMatchObject({
        reason: 'cooling_down',
        cooldownUntil: T0 + 30_000,
        error: { kind: 'rejected', retryAfterMs: 30_000 },
      });
      expect(b.refusal(T0 + 10_000)).toMatchObject({
        kind: 'rejected',
        code: 'invalid_client',
        description: 'Client authentication failed',
        retryAfterMs: 20_000,
      });
      expect(b.health(T0 + 10_000)).toMatchObject({ cooldownUntil: T0 + 30_000, failingSince: T0 });
      expect(b.refusal(T0 + 30_000)).toBeUndefined();
      expect(b.health(T0 + 30_000).cooldownUntil).toBeUndefined();
    });

    it('keeps a longer Retry-After the endpoint asked for', () => {
      const outcome = failRenewal(breaker({ rejectedCooldownMs: 30_000 }), rejected('acme').with({ retryAfterMs: 90_000 }), T0);
      expect(outcome.error.retryAfterMs).toBe(90_000);
    });

    it('has no cool-down when it is set to 0', () => {
      const b = breaker({ rejectedCooldownMs: 0 });
      expect(failRenewal(b, rejected('acme'), T0)).toMatchObject({ reason: 'failed', error: { retryAfterMs: undefined } });
      expect(b.refusal(T0)).toBeUndefined();
    });

    it('does not count rejections towards the circuit', () => {
      const b = breaker({ rejectedCooldownMs: 0, failureThreshold: 1 });
      expect(failRenewal(b, rejected('acme'), T0, 5)).toMatchObject({ reason: 'failed', consecutiveFailures: 0 });
      expect(b.refusal(T0)).toBeUndefined();
    });
  });

  describe('circuit', () => {
    it('stays closed below the threshold and opens when a renewal ends with the threshold reached', () => {
      const b = breaker({ failureThreshold: 3, openMs: 5000 });
      expect(failRenewal(b, unavailable('acme'), T0, 2)).toMatchObject({
        reason: 'failed',
        consecutiveFailures: 2,
        error: { retryAfterMs: undefined },
      });
      expect(b.refusal(T0)).toBeUndefined();
      const opened = failRenewal(b, unavailable('acme'), T0 + 1000);
      expect(opened).toMatchObject({
        reason: 'circuit_open',
        circuitOpenUntil: T0 + 6000,
        consecutiveFailures: 3,
        error: { retryAfterMs: 5000 },
      });
      expect(b.refusal(T0 + 2000)).toMatchObject({
        kind: 'unavailable',
        status: 503,
        retryAfterMs: 4000,
        description: 'circuit open after repeated token endpoint failures',
      });
      expect(b.health(T0 + 2000)).toMatchObject({ circuitOpenUntil: T0 + 6000, failingSince: T0, lastError: { at: T0 + 1000 } });
    });

    it('half-opens after the open period, doubles it when the probe fails, up to the maximum', () => {
      const b = breaker({ failureThreshold: 1, openMs: 1000, maxOpenMs: 3000 });
      let at = T0;
      const periods: number[] = [];
      for (let i = 0; i < 4; i++) {
        const outcome = failRenewal(b, unavailable('acme'), at);
        periods.push(outcome.circuitOpenUntil! - at);
        at = outcome.circuitOpenUntil!;
        expect(b.refusal(at)).toBeUndefined(); // the probe may go
      }
      expect(periods).toEqual([1000, 2000, 3000, 3000]);
    });

    it('closes after a successful renewal, and a successful call resets the count', () => {
      const b = breaker({ failureThreshold: 2 });
      failRenewal(b, unavailable('acme'), T0, 2);
      expect(b.refusal(T0)).toBeDefined();
      b.callSucceeded();
      b.renewalSucceeded();
      expect(b.refusal(T0)).toBeUndefined();
      expect(b.health(T0)).toEqual({
        failingSince: undefined,
        cooldownUntil: undefined,
        circuitOpenUntil: undefined,
        lastError: undefined,
      });
      expect(failRenewal(b, unavailable('acme'), T0)).toMatchObject({ reason: 'failed', consecutiveFailures: 1 });
    });

    it('a token adopted from the store closes the circuit but leaves the failed-call count alone', () => {
      const b = breaker({ failureThreshold: 2 });
      failRenewal(b, unavailable('acme'), T0, 2);
      b.renewalSucceeded(); // another instance's token
      expect(b.refusal(T0)).toBeUndefined();
      expect(failRenewal(b, unavailable('acme'), T0 + 1, 1)).toMatchObject({ reason: 'circuit_open', consecutiveFailures: 3 });
    });
  });
});
