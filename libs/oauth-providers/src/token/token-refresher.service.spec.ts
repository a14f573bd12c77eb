import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import type { INestApplicationContext } from '@nestjs/common';
import type { OAuthModuleOptions } from '../oauth.options.js';
import { OAuthModule } from '../oauth.module.js';
import { TokenService } from './token.service.js';
import { renewalLeadMs } from './token-refresher.service.js';
import { rejected, ScriptedStrategy, unavailable } from '../../test-support/scripted-strategy.js';
import { ScriptedStore } from '../../test-support/scripted-store.js';

/** The real module under Jest's fake timers: Date.now and setTimeout move only when the test says. */
async function start(strategy: ScriptedStrategy, options: Partial<OAuthModuleOptions> = {}) {
  jest.useFakeTimers({ now: Date.UTC(2026, 0, 1), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const moduleRef = await Test.createTestingModule({
    imports: [
      ScheduleModule.forRoot(),
      OAuthModule.forRoot({
        providers: [strategy],
        refreshSkewSeconds: 10,
        retry: { maxAttempts: 1 },
        refresher: { warmOnStart: true, jitterMs: 0, retryBaseMs: 1000, retryMaxMs: 4000 },
        ...options,
      }),
    ],
  }).compile();
  const app = await moduleRef.init();
  await jest.advanceTimersByTimeAsync(0); // the warm-up renewal
  return { app, tokens: app.get(TokenService), registry: app.get(SchedulerRegistry) };
}

let app: INestApplicationContext | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  jest.useRealTimers();
});

const tokenFor = (seconds: number) => {
  let n = 0;
  return () => ({ accessToken: `tok-${++n}`, expiresIn: seconds });
};

describe('TokenRefresher', () => {
  it('fetches every provider at start-up when warmOnStart is set', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100));
    ({ app } = await start(strategy));
    expect(strategy.calls).toHaveLength(1);
  });

  it('renews before expiry minus skew with no traffic at all', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy));
    // Valid until 90 s (100 s - 10 s skew); renewed 10% of that earlier, at 81 s.
    await jest.advanceTimersByTimeAsync(80_999);
    expect(strategy.calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(strategy.calls).toHaveLength(2);
    expect((await tokens.getToken('acme')).accessToken).toBe('tok-2');
  });

  it('keeps a steady stream of callers on valid tokens across many short lifetimes without making them wait', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(5));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, { refreshSkewSeconds: 1, refresher: { warmOnStart: true, jitterMs: 500 } }));
    const seen = new Set<string>();
    for (let t = 0; t < 60_000; t += 100) {
      const token = await tokens.getToken('acme');
      expect(token.expiresAt).toBeGreaterThan(Date.now());
      seen.add(token.accessToken);
      await jest.advanceTimersByTimeAsync(100);
    }
    expect(seen.size).toBeGreaterThanOrEqual(12); // a minute of 5 s tokens
    // Every caller was served from the cache: no request ever waited on a renewal.
    expect(tokens.cacheCounters()[0].misses).toBe(0);
  });

  it('retries a failed background renewal with backoff while the current token still serves callers', async () => {
    const fresh = tokenFor(100);
    const strategy = new ScriptedStrategy().answers(fresh, unavailable('acme'), unavailable('acme'), fresh);
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, { circuitBreaker: { failureThreshold: 100 } }));
    await jest.advanceTimersByTimeAsync(81_000); // first renewal attempt fails
    expect(strategy.calls).toHaveLength(2);
    expect((await tokens.getToken('acme')).accessToken).toBe('tok-1');
    expect(tokens.status()[0]).toMatchObject({ state: 'valid', failingSince: expect.any(Number) });
    await jest.advanceTimersByTimeAsync(1_000); // backoff 500..1000 ms
    expect(strategy.calls).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(2_000); // backoff 1000..2000 ms
    expect(strategy.calls).toHaveLength(4);
    expect((await tokens.getToken('acme')).accessToken).toBe('tok-2');
    expect(tokens.status()[0].failingSince).toBeUndefined();
  });

  it('renews a token that lives 1 ms (expires_in: 0.001) once per minRequestIntervalMs, callers served meanwhile', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(0.001));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, { minRequestIntervalMs: 1000 }));
    for (let t = 0; t < 10_000; t += 50) {
      expect((await tokens.getToken('acme')).expiresAt).toBeGreaterThan(Date.now());
      await jest.advanceTimersByTimeAsync(50);
    }
    expect(strategy.calls.length).toBeGreaterThanOrEqual(5);
    expect(strategy.calls.length).toBeLessThanOrEqual(11);
    expect(tokens.cacheCounters()[0].misses).toBe(0);
  });

  it('renews right away in the background after an invalidation', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy));
    await jest.advanceTimersByTimeAsync(1_000); // minRequestIntervalMs after the warm-up renewal
    await tokens.invalidate('acme', 'tok-1');
    await jest.advanceTimersByTimeAsync(0);
    expect(strategy.calls).toHaveLength(2);
    expect(tokens.cacheCounters()[0].misses).toBe(0);
  });

  it('renews short tokens half-way through their usable life (5 s tokens, 60 s skew)', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(5));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, { refreshSkewSeconds: 60 }));
    // Usable until 2.5 s (the skew shrinks to half the life); the lead is half of that: 1.25 s.
    await jest.advanceTimersByTimeAsync(1_249);
    expect(strategy.calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(strategy.calls).toHaveLength(2);
    expect((await tokens.getToken('acme')).accessToken).toBe('tok-2');
  });

  it('leads a renewal by 10% of the usable life, at least 5 s (or half a short life), at most 30 s', () => {
    expect(renewalLeadMs(3_540_000)).toBe(30_000); // one-hour token, 60 s skew
    expect(renewalLeadMs(90_000)).toBe(9_000);
    expect(renewalLeadMs(20_000)).toBe(5_000);
    expect(renewalLeadMs(2_500)).toBe(1_250);
    expect(renewalLeadMs(0)).toBe(0);
  });

  it('waits out the cool-down before renewing again after the credentials were rejected', async () => {
    const fresh = tokenFor(100);
    const strategy = new ScriptedStrategy().answers(fresh, rejected('acme'), fresh);
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, { rejectedCooldownSeconds: 30 }));
    await jest.advanceTimersByTimeAsync(81_000); // the renewal is refused: cool-down until 111 s
    expect(strategy.calls).toHaveLength(2);
    expect(tokens.status()[0]).toMatchObject({ state: 'valid', cooldownUntil: expect.any(Number) });
    await jest.advanceTimersByTimeAsync(29_000);
    expect(strategy.calls).toHaveLength(2); // not asked again during the cool-down, token still served until 90 s
    await jest.advanceTimersByTimeAsync(1_000);
    expect(strategy.calls).toHaveLength(3);
    expect((await tokens.getToken('acme')).accessToken).toBe('tok-2');
  });

  it('renews through the circuit: fails fast while open, probes when it half-opens', async () => {
    const fresh = tokenFor(100);
    const strategy = new ScriptedStrategy().answers(fresh, unavailable('acme'), unavailable('acme'), fresh);
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, { circuitBreaker: { failureThreshold: 2, openMs: 5_000 } }));
    await jest.advanceTimersByTimeAsync(81_000); // first failure
    await jest.advanceTimersByTimeAsync(1_000); // retry 500..1000 ms later: second failure, circuit opens for 5 s
    expect(strategy.calls).toHaveLength(3);
    expect(tokens.status()[0]).toMatchObject({ state: 'valid', circuitOpenUntil: expect.any(Number) });
    await jest.advanceTimersByTimeAsync(4_000);
    expect(strategy.calls).toHaveLength(3); // nothing sent while open
    await jest.advanceTimersByTimeAsync(2_000); // the half-open probe, rescheduled at the circuit's Retry-After
    expect(strategy.calls).toHaveLength(4);
    expect((await tokens.getToken('acme')).accessToken).toBe('tok-2');
    expect(tokens.status()[0].circuitOpenUntil).toBeUndefined();
  });

  it('re-arms a renewal that came due while the renewal that armed it was still releasing the shared lock', async () => {
    // 40 ms tokens with a 10 s skew: usable for 20 ms, renewed 10 ms after they arrive, while the
    // lock of the renewal that fetched them is released for 50 ms more.
    const strategy = new ScriptedStrategy().answers(tokenFor(0.04));
    const release = () => new Promise<void>((resolve) => setTimeout(resolve, 50));
    const store = new ScriptedStore({ lock: async () => ({ extend: async () => true, release }) });
    ({ app } = await start(strategy, { store, minRequestIntervalMs: 0 }));
    // One renewal each 50 ms or so (each waits for the release before it), for as long as it runs.
    await jest.advanceTimersByTimeAsync(1_000);
    const firstSecond = strategy.calls.length;
    expect(firstSecond).toBeGreaterThanOrEqual(10);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(strategy.calls.length - firstSecond).toBeGreaterThanOrEqual(10);
  });

  it('catches an error inside its own handlers: the token request still succeeds and the renewal is re-armed', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100));
    let tokens: TokenService;
    let registry: SchedulerRegistry;
    ({ app, tokens, registry } = await start(strategy));
    const lifetime = jest.spyOn(tokens, 'lifetime').mockImplementationOnce(() => {
      throw new Error('boom');
    });
    await expect(tokens.getToken('acme', { forceRefresh: true })).resolves.toMatchObject({ accessToken: 'tok-2' });
    expect(lifetime).toHaveBeenCalled();
    expect(registry.getTimeouts()).toEqual(['oauth-refresh:acme']); // retried after retryBaseMs
    await jest.advanceTimersByTimeAsync(1_000);
    expect(strategy.calls).toHaveLength(3);
    expect(registry.getTimeouts()).toEqual(['oauth-refresh:acme']);
  });

  it('without warm-up, renews only tokens that were used since they were obtained', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, { refresher: { warmOnStart: false, jitterMs: 0 } }));
    expect(strategy.calls).toHaveLength(0); // nothing fetched at start-up
    await tokens.getToken('acme');
    await jest.advanceTimersByTimeAsync(40_000);
    await tokens.getToken('acme'); // in use
    await jest.advanceTimersByTimeAsync(41_000); // 81 s: renewed in the background
    expect(strategy.calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(90_000); // nobody used tok-2: left to lapse
    expect(strategy.calls).toHaveLength(2);
    expect(tokens.status()[0].state).toBe('expired');
    await tokens.getToken('acme'); // the next caller fetches on demand
    expect(strategy.calls).toHaveLength(3);
  });

  it('stops when the app shuts down even while a renewal is being retried', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100), unavailable('acme'));
    let registry: SchedulerRegistry;
    ({ app, registry } = await start(strategy, { circuitBreaker: { failureThreshold: 100 } }));
    await jest.advanceTimersByTimeAsync(81_000);
    expect(registry.getTimeouts()).toEqual(['oauth-refresh:acme']); // the retry is armed
    await app.close();
    app = undefined;
    expect(registry.getTimeouts()).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(strategy.calls).toHaveLength(2);
  });

  it('leaves no timer behind on shutdown', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100));
    let registry: SchedulerRegistry;
    ({ app, registry } = await start(strategy));
    expect(registry.getTimeouts()).toEqual(['oauth-refresh:acme']);
    await app.close();
    app = undefined;
    expect(registry.getTimeouts()).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures, fails fast while open, and closes after a successful probe', async () => {
    const strategy = new ScriptedStrategy().answers(unavailable('acme'), unavailable('acme'), unavailable('acme'), tokenFor(100));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, {
      refresher: { enabled: false },
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
      circuitBreaker: { failureThreshold: 3, openMs: 5000 },
    }));
    const first = tokens.getToken('acme');
    const settled = first.catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1000);
    expect(await settled).toMatchObject({ kind: 'unavailable' });
    expect(strategy.calls).toHaveLength(3);

    // Open: callers are answered at once, with how long to wait, and nothing is sent.
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable', retryAfterMs: expect.any(Number) });
    expect(tokens.status()[0]).toMatchObject({ state: 'circuit_open', circuitOpenUntil: expect.any(Number) });
    expect(strategy.calls).toHaveLength(3);

    // Half-open after the open period: one probe goes through and closes the circuit.
    await jest.advanceTimersByTimeAsync(5000);
    const probes = await Promise.all(Array.from({ length: 20 }, () => tokens.getToken('acme')));
    expect(new Set(probes.map((t) => t.accessToken)).size).toBe(1);
    expect(strategy.calls).toHaveLength(4);
    expect(tokens.status()[0].state).toBe('valid');
  });

  it('tells callers when to come back: the failure that opens the circuit, and a rejection, carry retryAfterMs', async () => {
    const strategy = new ScriptedStrategy().answers(unavailable('acme'));
    const refused = new ScriptedStrategy('refused').answers(rejected('refused'));
    jest.useFakeTimers({ now: Date.UTC(2026, 0, 1), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        OAuthModule.forRoot({
          providers: [strategy, refused],
          retry: { maxAttempts: 1 },
          refresher: { enabled: false },
          rejectedCooldownSeconds: 30,
          circuitBreaker: { failureThreshold: 2, openMs: 5000 },
        }),
      ],
    }).compile();
    app = await moduleRef.init();
    const tokens = app.get(TokenService);
    const first = await tokens.getToken('acme').catch((e: unknown) => e);
    expect(first).toMatchObject({ kind: 'unavailable' });
    expect((first as { retryAfterMs?: number }).retryAfterMs).toBeUndefined(); // below the threshold: nothing known
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable', retryAfterMs: 5000 }); // opens it
    await expect(tokens.getToken('refused')).rejects.toMatchObject({ kind: 'rejected', retryAfterMs: 30_000 });
  });

  it('doubles the open period when the probe fails', async () => {
    const strategy = new ScriptedStrategy().answers(unavailable('acme'));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, {
      refresher: { enabled: false },
      retry: { maxAttempts: 1 },
      circuitBreaker: { failureThreshold: 1, openMs: 1000, maxOpenMs: 1500 },
    }));
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ retryAfterMs: 1000 });
    await jest.advanceTimersByTimeAsync(1000);
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable' }); // the probe
    await expect(tokens.getToken('acme')).rejects.toMatchObject({ retryAfterMs: 1500 }); // doubled, capped
    expect(strategy.calls).toHaveLength(2);
  });

  it('keeps serving a valid token while the endpoint is down', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100), unavailable('acme'));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy, { circuitBreaker: { failureThreshold: 1 } }));
    await jest.advanceTimersByTimeAsync(89_000); // renewals fail from 81 s on, the token is valid until 90 s
    expect(strategy.calls.length).toBeGreaterThan(2);
    expect((await tokens.getToken('acme')).accessToken).toBe('tok-1');
  });
});
