import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import type { INestApplicationContext } from '@nestjs/common';
import type { OAuthModuleOptions } from '../interfaces/oauth-module-options.interface.js';
import { OAuthModule } from '../oauth.module.js';
import { TokenService } from './token.service.js';
import { TokenRefresher } from './token-refresher.service.js';
import { ScriptedStrategy, unavailable } from '../../test-support/scripted-strategy.js';

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
  return { app, tokens: app.get(TokenService), refresher: app.get(TokenRefresher), registry: app.get(SchedulerRegistry) };
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

  it('renews right away in the background after an invalidation', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100));
    let tokens: TokenService;
    ({ app, tokens } = await start(strategy));
    await tokens.invalidate('acme', 'tok-1');
    await jest.advanceTimersByTimeAsync(0);
    expect(strategy.calls).toHaveLength(2);
    expect(tokens.cacheCounters()[0].misses).toBe(0);
  });

  it('leaves no timer behind on shutdown', async () => {
    const strategy = new ScriptedStrategy().answers(tokenFor(100));
    let refresher: TokenRefresher;
    let registry: SchedulerRegistry;
    ({ app, refresher, registry } = await start(strategy));
    expect(refresher.scheduled()).toEqual(['acme']);
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
