import { describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { NoAuthorizationHeaderError } from '../errors/no-authorization-header.error.js';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import { UnknownProviderError } from '../errors/unknown-provider.error.js';
import { resolveOptions, systemClock, type OAuthModuleOptions } from '../oauth.options.js';
import type { TokenHttpClient } from '../interfaces/token-strategy.interface.js';
import { InMemoryTokenStore } from '../stores/in-memory-token.store.js';
import { FakeClock } from '../../test-support/fake-clock.js';
import { rejected, ScriptedStrategy, unavailable } from '../../test-support/scripted-strategy.js';
import { latamPass, prio } from '../strategies/index.js';
import type { TokenFailedEvent } from './token.events.js';
import { TokenService } from './token.service.js';

const noHttp: TokenHttpClient = {
  post: () => Promise.reject(new Error('scripted strategies do not use HTTP')),
};

function setup(options: Partial<OAuthModuleOptions> = {}, strategy = new ScriptedStrategy()) {
  const clock = new FakeClock();
  const store = new InMemoryTokenStore({ now: () => clock.now() });
  const service = new TokenService(resolveOptions({ providers: [], clock, ...options }), store, noHttp);
  service.register(strategy);
  return { clock, service, strategy, store };
}

describe('TokenService', () => {
  describe('cache', () => {
    it('sends one token request for 100 concurrent callers', async () => {
      const { service, strategy } = setup();
      const open = strategy.gate();
      const callers = Array.from({ length: 100 }, () => service.getToken('acme'));
      open();
      const tokens = await Promise.all(callers);
      expect(strategy.calls).toHaveLength(1);
      expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    });

    it('returns a valid cached token without asking the provider', async () => {
      const { service, strategy } = setup();
      const first = await service.getToken('acme');
      for (let i = 0; i < 50; i++) expect(await service.getToken('acme')).toBe(first);
      expect(strategy.calls).toHaveLength(1);
    });

    it('renews once the token is within the refresh skew of its expiry', async () => {
      const { service, strategy, clock } = setup({ refreshSkewSeconds: 60 });
      const first = await service.getToken('acme'); // 3600 s
      clock.advance((3600 - 61) * 1000);
      expect(await service.getToken('acme')).toBe(first);
      clock.advance(2000); // 59 s before expiry: inside the skew
      const second = await service.getToken('acme');
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(strategy.calls).toHaveLength(2);
    });

    it('shrinks the skew for tokens shorter than twice the skew (5 s tokens, 60 s skew)', async () => {
      const { service, strategy, clock } = setup(
        { refreshSkewSeconds: 60 },
        new ScriptedStrategy().answers(() => ({ accessToken: `t${Math.random()}`, expiresIn: 5 })),
      );
      const first = await service.getToken('acme');
      clock.advance(2000);
      expect(await service.getToken('acme')).toBe(first);
      clock.advance(600); // past half the lifetime
      expect((await service.getToken('acme')).accessToken).not.toBe(first.accessToken);
      expect(strategy.calls).toHaveLength(2);
    });

    it('forceRefresh renews a valid token, and concurrent forced callers share one request', async () => {
      const { service, strategy } = setup();
      await service.getToken('acme');
      const open = strategy.gate();
      const forced = Array.from({ length: 10 }, () => service.getToken('acme', { forceRefresh: true }));
      open();
      await Promise.all(forced);
      expect(strategy.calls).toHaveLength(2);
    });

    it('rejects an unknown provider with UnknownProviderError', async () => {
      const { service } = setup();
      await expect(service.getToken('nope')).rejects.toBeInstanceOf(UnknownProviderError);
    });
  });

  describe('lifetimes', () => {
    it.each([
      ['missing', undefined],
      ['zero', 0],
      ['negative', -30],
      ['non-numeric string', 'soon'],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['an object', { seconds: 10 }],
    ])('uses the default lifetime when expires_in is %s', async (_label, expiresIn) => {
      const { service, clock } = setup({ defaultTtlSeconds: 1234 }, new ScriptedStrategy().answers({ accessToken: 'a', expiresIn }));
      const token = await service.getToken('acme');
      expect(token.expiresAt - clock.now()).toBe(1_234_000);
    });

    it('reads a numeric string expires_in as seconds', async () => {
      const { service, clock } = setup({}, new ScriptedStrategy().answers({ accessToken: 'a', expiresIn: '900' }));
      expect((await service.getToken('acme')).expiresAt - clock.now()).toBe(900_000);
    });

    it('caps any lifetime at the maximum (Sabre 7 days against a 1 day cap)', async () => {
      const { service, clock } = setup({ maxTtlSeconds: 86_400 }, new ScriptedStrategy().answers({ accessToken: 'a', expiresIn: 604_800 }));
      expect((await service.getToken('acme')).expiresAt - clock.now()).toBe(86_400_000);
    });

    it('normalises token_type casing to Bearer', async () => {
      const { service } = setup({}, new ScriptedStrategy().answers({ accessToken: 'a', tokenType: 'bearer' }));
      expect(await service.getAuthorizationHeader('acme')).toBe('Bearer a');
    });
  });

  describe('invalidation', () => {
    it('many invalidations of one old token cause one renewal', async () => {
      const { service, strategy, clock } = setup();
      const old = await service.getToken('acme');
      clock.advance(1000); // minRequestIntervalMs
      const open = strategy.gate();
      const renewals = Array.from({ length: 100 }, async () => {
        await service.invalidate('acme', old.accessToken);
        return service.getToken('acme');
      });
      open();
      const tokens = await Promise.all(renewals);
      expect(strategy.calls).toHaveLength(2);
      expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set([tokens[0].accessToken]));
      expect(tokens[0].accessToken).not.toBe(old.accessToken);
    });

    it('ignores an invalidation naming a token that is no longer current', async () => {
      const { service, strategy, clock } = setup();
      const old = await service.getToken('acme');
      clock.advance(1000); // minRequestIntervalMs
      await service.invalidate('acme', old.accessToken);
      const current = await service.getToken('acme');
      await service.invalidate('acme', old.accessToken);
      expect(await service.getToken('acme')).toBe(current);
      expect(strategy.calls).toHaveLength(2);
    });

    it('invalidate without a token drops whatever is cached', async () => {
      const { service, strategy, clock } = setup();
      await service.getToken('acme');
      clock.advance(1000); // minRequestIntervalMs
      await service.invalidate('acme');
      await service.getToken('acme');
      expect(strategy.calls).toHaveLength(2);
    });
  });

  describe('retries', () => {
    it('honours Retry-After on 429, then succeeds', async () => {
      const { service, strategy, clock } = setup(
        {},
        new ScriptedStrategy().answers(unavailable('acme', 1500, 429), { accessToken: 'ok', expiresIn: 60 }),
      );
      expect((await service.getToken('acme')).accessToken).toBe('ok');
      expect(strategy.calls).toHaveLength(2);
      expect(clock.sleeps).toEqual([1500]);
    });

    it('backs off exponentially with jitter on 5xx, within maxAttempts', async () => {
      const { service, strategy, clock } = setup(
        { retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000, maxTotalMs: 60_000 } },
        new ScriptedStrategy().answers(unavailable('acme')),
      );
      await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable', status: 503 });
      expect(strategy.calls).toHaveLength(4);
      expect(clock.sleeps).toHaveLength(3);
      clock.sleeps.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual((100 * 2 ** i) / 2);
        expect(ms).toBeLessThanOrEqual(100 * 2 ** i);
      });
    });

    it('gives up at once when Retry-After is beyond the retry budget, and reports it', async () => {
      const { service, strategy, clock } = setup(
        { retry: { maxDelayMs: 5000 } },
        new ScriptedStrategy().answers(unavailable('acme', 120_000, 429)),
      );
      await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable', retryAfterMs: 120_000 });
      expect(strategy.calls).toHaveLength(1);
      expect(clock.sleeps).toEqual([]);
    });

    it('gives up a renewal waiting between retries when the app shuts down, leaving no timer behind', async () => {
      // The real clock, watched: a wait that did not end on shutdown would hold this test a minute.
      const sleeps: Array<Promise<void>> = [];
      const clock = {
        now: () => Date.now(),
        sleep: (ms: number, signal?: AbortSignal) => (sleeps.push(systemClock.sleep(ms, signal)), sleeps.at(-1)!),
      };
      const retry = { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000, maxTotalMs: 300_000 };
      const service = new TokenService(resolveOptions({ providers: [], retry, clock }), new InMemoryTokenStore(), noHttp);
      const strategy = new ScriptedStrategy().answers(unavailable('acme'));
      service.register(strategy);
      const pending = service.getToken('acme');
      while (sleeps.length < 1) await new Promise((resolve) => setImmediate(resolve));
      service.onApplicationShutdown();
      await expect(pending).rejects.toMatchObject({ kind: 'unavailable' });
      // node:timers/promises clears the timer of an aborted wait.
      await expect(sleeps[0]).rejects.toMatchObject({ name: 'AbortError' });
      expect(strategy.calls).toHaveLength(1);
    });

    it('stops retrying when the total time bound would be exceeded', async () => {
      const { service, strategy } = setup(
        { retry: { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 4000, maxTotalMs: 5000 } },
        new ScriptedStrategy().answers(unavailable('acme', 2000)),
      );
      await expect(service.getToken('acme')).rejects.toBeInstanceOf(OAuthProviderError);
      expect(strategy.calls).toHaveLength(3); // waits 2 s + 2 s; a third wait would pass 5 s
    });
  });

  describe('rejections', () => {
    it('does not retry rejected credentials', async () => {
      const { service, strategy, clock } = setup({}, new ScriptedStrategy().answers(rejected('acme')));
      await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected', code: 'invalid_client' });
      expect(strategy.calls).toHaveLength(1);
      expect(clock.sleeps).toEqual([]);
    });

    it('answers a flood of callers from the cool-down without asking the provider again', async () => {
      const { service, strategy, clock } = setup({ rejectedCooldownSeconds: 30 }, new ScriptedStrategy().answers(rejected('acme')));
      await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
      clock.advance(10_000);
      const flood = await Promise.allSettled(Array.from({ length: 200 }, () => service.getToken('acme')));
      expect(flood.every((r) => r.status === 'rejected')).toBe(true);
      expect((flood[0] as PromiseRejectedResult).reason).toMatchObject({
        kind: 'rejected',
        description: 'Client authentication failed',
        retryAfterMs: 20_000,
      });
      expect(strategy.calls).toHaveLength(1);
      expect(service.status()[0]).toMatchObject({ state: 'cooling_down', cooldownUntil: clock.now() + 20_000 });
    });

    it('asks again once the cool-down has passed', async () => {
      const { service, strategy, clock } = setup(
        { rejectedCooldownSeconds: 30 },
        new ScriptedStrategy().answers(rejected('acme'), { accessToken: 'fixed', expiresIn: 60 }),
      );
      await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
      clock.advance(30_000);
      expect((await service.getToken('acme')).accessToken).toBe('fixed');
      expect(strategy.calls).toHaveLength(2);
    });
  });

  describe('refresh tokens', () => {
    it('renews with the refresh grant, keeping the old refresh token when none comes back', async () => {
      const strategy = new ScriptedStrategy()
        .answers({ accessToken: 'a1', refreshToken: 'r1', expiresIn: 100 })
        .refreshAnswers({ accessToken: 'a2', expiresIn: 100 });
      const { service, clock } = setup({ refreshSkewSeconds: 10 }, strategy);
      await service.getToken('acme');
      clock.advance(95_000);
      const renewed = await service.getToken('acme');
      expect(strategy.calls).toEqual([{ grant: 'primary' }, { grant: 'refresh', refreshToken: 'r1' }]);
      expect(renewed).toMatchObject({ accessToken: 'a2', refreshToken: 'r1' });
    });

    it('falls back to the primary grant when the refresh token is refused', async () => {
      const strategy = new ScriptedStrategy()
        .answers({ accessToken: 'a1', refreshToken: 'r1', expiresIn: 100 }, { accessToken: 'a3', refreshToken: 'r3', expiresIn: 100 })
        .refreshAnswers(rejected('acme', 'refresh token revoked'));
      const { service, clock } = setup({ refreshSkewSeconds: 10 }, strategy);
      await service.getToken('acme');
      clock.advance(95_000);
      expect(await service.getToken('acme')).toMatchObject({ accessToken: 'a3', refreshToken: 'r3' });
      expect(strategy.calls.map((c) => c.grant)).toEqual(['primary', 'refresh', 'primary']);
    });
  });

  describe('hostile strategies', () => {
    it.each([
      ['an empty access_token', { accessToken: '' }],
      ['a numeric access_token', { accessToken: 42 as unknown as string }],
      ['undefined', undefined as unknown as { accessToken: string }],
    ])('turns a grant with %s into invalid_response', async (_label, grant) => {
      const { service } = setup(
        {},
        new ScriptedStrategy().answers(() => grant),
      );
      await expect(service.getToken('acme')).rejects.toMatchObject({ name: 'OAuthProviderError', kind: 'invalid_response' });
    });

    it('wraps a strategy that throws a TypeError into a strategy_error with the exception as cause, not retried', async () => {
      const bug = new TypeError('boom');
      const { service, strategy } = setup({}, new ScriptedStrategy().answers(bug));
      const error = await service.getToken('acme').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OAuthProviderError);
      expect(error).toMatchObject({ kind: 'strategy_error', cause: bug });
      expect(strategy.calls).toHaveLength(1);
      expect(service.status()[0]).toMatchObject({ state: 'failing', lastError: { kind: 'strategy_error' } });
    });

    it('turns an exception from requestHeaders into a strategy_error for getRequestHeaders', async () => {
      const bug = new RangeError('no header for you');
      const strategy = Object.assign(new ScriptedStrategy(), {
        requestHeaders: () => {
          throw bug;
        },
      });
      const { service } = setup({}, strategy);
      await expect(service.getRequestHeaders('acme')).rejects.toMatchObject({
        name: 'OAuthProviderError',
        kind: 'strategy_error',
        cause: bug,
      });
    });
  });

  describe('status', () => {
    it('reports states and expiries but never a token value', async () => {
      const { service } = setup({}, new ScriptedStrategy().answers({ accessToken: 'SECRET-TOKEN', refreshToken: 'SECRET-REFRESH' }));
      await service.getToken('acme');
      const status = service.status();
      expect(status[0]).toMatchObject({ provider: 'acme', state: 'valid', valid: true, hasRefreshToken: true });
      expect(JSON.stringify(status)).not.toMatch(/SECRET/);
    });
  });

  describe('request headers', () => {
    it('builds the headers once per token', async () => {
      const { service } = setup();
      const token = await service.getToken('acme');
      expect(service.getRequestHeaders(token)).toBe(service.getRequestHeaders(token));
      expect(service.getRequestHeaders(token)).toEqual({ authorization: `Bearer ${token.accessToken}` });
    });
  });

  describe("regression: getAuthorizationHeader returned a Bearer header that LATAM's API refuses", () => {
    /** A token endpoint that answers every strategy with the same token. */
    const answering: TokenHttpClient = {
      post: async () => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"access_token":"tok-1","token_type":"bearer","expires_in":3600}',
      }),
    };
    const serviceFor = (strategy: Parameters<TokenService['register']>[0]) => {
      const service = new TokenService(resolveOptions({ providers: [], clock: new FakeClock() }), new InMemoryTokenStore(), answering);
      service.register(strategy);
      return service;
    };

    it('rejects for LATAM, whose API takes no Authorization header, pointing to getRequestHeaders', async () => {
      const service = serviceFor(latamPass({ tokenUrl: 'https://latam.test/token', clientId: 'app', clientSecret: 'secret' }));
      const error = await service.getAuthorizationHeader('latam').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NoAuthorizationHeaderError);
      expect((error as Error).message).toMatch(/getRequestHeaders\('latam'\)/);
      expect(await service.getRequestHeaders('latam')).toEqual({ client_id: 'app', access_token: 'tok-1' });
    });

    it('returns the Authorization value the strategy builds, whatever the casing of its name', async () => {
      expect(
        await serviceFor(prio({ tokenUrl: 'https://prio.test/token', clientId: 'c', clientSecret: 's' })).getAuthorizationHeader('prio'),
      ).toBe('Bearer tok-1');
      const custom = new ScriptedStrategy('custom').answers({ accessToken: 'abc' });
      Object.assign(custom, { requestHeaders: () => ({ Authorization: 'Token abc', 'x-extra': '1' }) });
      const service = new TokenService(resolveOptions({ providers: [] }), new InMemoryTokenStore(), noHttp);
      service.register(custom);
      expect(await service.getAuthorizationHeader('custom')).toBe('Token abc');
    });
  });

  describe('failed event', () => {
    const collect = (service: TokenService) => {
      const events: TokenFailedEvent[] = [];
      service.events.on('failed', (e) => events.push(e));
      return events;
    };

    it('says a rejection started a cool-down, and until when', async () => {
      const { service, clock } = setup({ rejectedCooldownSeconds: 30 }, new ScriptedStrategy().answers(rejected('acme')));
      const events = collect(service);
      await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'rejected' });
      expect(events).toEqual([
        expect.objectContaining({
          provider: 'acme',
          reason: 'cooling_down',
          cooldownUntil: clock.now() + 30_000,
          retryAfterMs: 30_000,
          background: false,
        }),
      ]);
      expect(events[0].error).toMatchObject({ kind: 'rejected', code: 'invalid_client' });
    });

    it('says which failure opened the circuit, and until when; the ones before it are plain failures', async () => {
      const { service, clock } = setup(
        { retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 2, openMs: 5000 } },
        new ScriptedStrategy().answers(unavailable('acme')),
      );
      const events = collect(service);
      await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable' });
      await expect(service.refreshInBackground('acme')).rejects.toMatchObject({ retryAfterMs: 5000 });
      expect(
        events.map(({ reason, circuitOpenUntil, consecutiveFailures, background }) => ({
          reason,
          circuitOpenUntil,
          consecutiveFailures,
          background,
        })),
      ).toEqual([
        { reason: 'failed', circuitOpenUntil: undefined, consecutiveFailures: 1, background: false },
        { reason: 'circuit_open', circuitOpenUntil: clock.now() + 5000, consecutiveFailures: 2, background: true },
      ]);
    });

    it('is logged by the service (one line) only when nothing listens to it', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      try {
        const { service } = setup({ retry: { maxAttempts: 1 } }, new ScriptedStrategy().answers(unavailable('acme')));
        await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable' });
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0][0]).toMatch(/^acme: token renewal failed/);

        collect(service);
        await expect(service.getToken('acme')).rejects.toMatchObject({ kind: 'unavailable' });
        expect(warn).toHaveBeenCalledTimes(1);
      } finally {
        warn.mockRestore();
      }
    });

    it("passes an exception that is not a provider failure (a listener's bug) on as it is, without counting it", async () => {
      const { service, strategy } = setup();
      const bug = new Error('listener bug');
      service.events.once('obtained', () => {
        throw bug;
      });
      await expect(service.getToken('acme')).rejects.toBe(bug);
      expect(service.status()[0]).toMatchObject({ failingSince: undefined, lastError: undefined });
      expect(strategy.calls).toHaveLength(1);
    });
  });

  describe('store status', () => {
    it('says whether the store is shared and reachable, with or without providers', () => {
      const alone = new TokenService(resolveOptions({ providers: [] }), new InMemoryTokenStore({ shared: true }), noHttp);
      expect(alone.storeStatus()).toEqual({ shared: true, degraded: false });
      const { service } = setup();
      expect(service.storeStatus()).toEqual({ shared: false, degraded: false });
      expect(service.status()[0].store).toEqual(service.storeStatus());
    });
  });
});
