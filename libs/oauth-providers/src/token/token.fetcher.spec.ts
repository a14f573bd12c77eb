import { describe, expect, it } from '@jest/globals';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { RetryOptions } from '../interfaces/oauth-module-options.interface.js';
import { resolveOptions } from '../oauth.options.js';
import { FakeClock } from '../../test-support/fake-clock.js';
import { rejected, ScriptedStrategy, unavailable } from '../../test-support/scripted-strategy.js';
import { TokenEndpointBreaker } from './token-endpoint.breaker.js';
import type { TokenRequestEvent } from './token.events.js';
import { TokenFetcher } from './token.fetcher.js';

const noHttp = { post: () => Promise.reject(new Error('scripted strategies do not use HTTP')) };

/** A fetcher on its own: no cache, no store, a fake clock, the calls it reports. */
function setup(strategy: ScriptedStrategy, retry: RetryOptions = {}, circuitBreaker = { failureThreshold: 2 }) {
  const clock = new FakeClock();
  const options = resolveOptions({ providers: [], clock, retry, circuitBreaker });
  const breaker = new TokenEndpointBreaker(options);
  const requests: TokenRequestEvent[] = [];
  const stopping = new AbortController();
  const fetcher = new TokenFetcher(
    strategy,
    breaker,
    { http: noHttp },
    { ...options, signal: stopping.signal, onRequest: (e) => requests.push(e) },
  );
  return { fetcher, breaker, clock, requests, stopping, strategy };
}

describe('TokenFetcher', () => {
  describe('grant choice', () => {
    it('uses the primary grant without a refresh token', async () => {
      const { fetcher, strategy } = setup(new ScriptedStrategy().answers({ accessToken: 'a1' }));
      expect(await fetcher.fetch(undefined)).toEqual({ grant: { accessToken: 'a1' }, kind: 'primary' });
      expect(strategy.calls).toEqual([{ grant: 'primary' }]);
    });

    it('uses the refresh grant when a refresh token was issued', async () => {
      const { fetcher, strategy } = setup(new ScriptedStrategy().refreshAnswers({ accessToken: 'a2' }));
      expect(await fetcher.fetch('r1')).toEqual({ grant: { accessToken: 'a2' }, kind: 'refresh' });
      expect(strategy.calls).toEqual([{ grant: 'refresh', refreshToken: 'r1' }]);
    });

    it('falls back to the primary grant when the refresh token is refused, without counting it as a retry', async () => {
      const strategy = new ScriptedStrategy().refreshAnswers(rejected('acme', 'refresh token revoked')).answers({ accessToken: 'a3' });
      const { fetcher, clock } = setup(strategy, { maxAttempts: 1 });
      expect(await fetcher.fetch('r1')).toMatchObject({ grant: { accessToken: 'a3' }, kind: 'primary' });
      expect(strategy.calls.map((c) => c.grant)).toEqual(['refresh', 'primary']);
      expect(clock.sleeps).toEqual([]);
    });

    it('uses the primary grant when the strategy has no refresh grant', async () => {
      const strategy = new ScriptedStrategy().answers({ accessToken: 'a1' });
      (strategy as { refreshToken?: unknown }).refreshToken = undefined;
      const { fetcher } = setup(strategy);
      expect(await fetcher.fetch('r1')).toMatchObject({ kind: 'primary' });
    });
  });

  describe('retries', () => {
    it('waits what Retry-After says, then succeeds, reporting every call', async () => {
      const { fetcher, clock, requests } = setup(new ScriptedStrategy().answers(unavailable('acme', 1500, 429), { accessToken: 'ok' }));
      expect((await fetcher.fetch(undefined)).grant.accessToken).toBe('ok');
      expect(clock.sleeps).toEqual([1500]);
      expect(requests.map((r) => r.outcome)).toEqual(['unavailable', 'success']);
    });

    it('backs off exponentially with jitter, within maxAttempts', async () => {
      const { fetcher, clock, strategy } = setup(new ScriptedStrategy().answers(unavailable('acme')), {
        maxAttempts: 4,
        baseDelayMs: 100,
        maxDelayMs: 10_000,
        maxTotalMs: 60_000,
      });
      await expect(fetcher.fetch(undefined)).rejects.toMatchObject({ kind: 'unavailable', status: 503 });
      expect(strategy.calls).toHaveLength(4);
      clock.sleeps.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual((100 * 2 ** i) / 2));
      clock.sleeps.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(100 * 2 ** i));
    });

    it('gives up at once when Retry-After is beyond the longest wait, keeping it on the error', async () => {
      const { fetcher, strategy } = setup(new ScriptedStrategy().answers(unavailable('acme', 120_000, 429)), { maxDelayMs: 5000 });
      await expect(fetcher.fetch(undefined)).rejects.toMatchObject({ retryAfterMs: 120_000 });
      expect(strategy.calls).toHaveLength(1);
    });

    it('never retries a rejection or an unreadable answer', async () => {
      for (const answer of [rejected('acme'), new OAuthProviderError({ provider: 'acme', kind: 'invalid_response' })]) {
        const { fetcher, strategy } = setup(new ScriptedStrategy().answers(answer), { maxAttempts: 5 });
        await expect(fetcher.fetch(undefined)).rejects.toBe(answer);
        expect(strategy.calls).toHaveLength(1);
      }
    });

    it('gives up a wait between retries when stopped', async () => {
      const strategy = new ScriptedStrategy().answers(unavailable('acme'));
      const { fetcher, stopping, clock } = setup(strategy, { maxAttempts: 3 });
      clock.sleep = (_ms: number, signal?: AbortSignal) =>
        new Promise<void>((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      const pending = fetcher.fetch(undefined);
      await new Promise((resolve) => setImmediate(resolve));
      stopping.abort();
      await expect(pending).rejects.toMatchObject({ kind: 'unavailable' });
      expect(strategy.calls).toHaveLength(1);
    });
  });

  describe('what it lets through', () => {
    it.each([
      ['no grant', undefined],
      ['an empty access_token', { accessToken: '' }],
      ['a token_type that is not a string', { accessToken: 'a', tokenType: 7 }],
    ])('turns %s into invalid_response', async (_label, grant) => {
      const { fetcher } = setup(new ScriptedStrategy().answers(() => grant as never));
      await expect(fetcher.fetch(undefined)).rejects.toMatchObject({ name: 'OAuthProviderError', kind: 'invalid_response' });
    });

    it('wraps anything else a strategy throws as a strategy_error, once, keeping it as the cause, without retrying', async () => {
      const bug = new TypeError('boom');
      const { fetcher, strategy } = setup(new ScriptedStrategy().answers(bug));
      const error = (await fetcher.fetch(undefined).catch((e: unknown) => e)) as OAuthProviderError;
      expect(error).toBeInstanceOf(OAuthProviderError);
      expect(error).toMatchObject({ kind: 'strategy_error', description: "the strategy's code threw (TypeError)" });
      expect(error.cause).toBe(bug);
      expect(strategy.calls).toHaveLength(1);
    });

    it('feeds the breaker: failed calls count, a successful call resets the count, rejections do not count', async () => {
      const { fetcher, breaker, strategy } = setup(
        new ScriptedStrategy().answers(unavailable('acme')),
        { maxAttempts: 2 },
        { failureThreshold: 2 },
      );
      await expect(fetcher.fetch(undefined)).rejects.toMatchObject({ kind: 'unavailable' });
      expect(breaker.renewalFailed(unavailable('acme'), 0)).toMatchObject({ reason: 'circuit_open', consecutiveFailures: 2 });
      strategy.answers({ accessToken: 'ok' });
      await fetcher.fetch(undefined);
      strategy.answers(rejected('acme'));
      await expect(fetcher.fetch(undefined)).rejects.toMatchObject({ kind: 'rejected' });
      expect(breaker.renewalFailed(unavailable('acme'), 0)).toMatchObject({ consecutiveFailures: 0 });
    });
  });
});
