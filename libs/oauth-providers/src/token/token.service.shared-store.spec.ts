import { describe, expect, it } from '@jest/globals';
import { resolveOptions } from '../oauth.options.js';
import { InMemoryTokenStore } from '../stores/in-memory-token.store.js';
import type { TokenStore } from '../stores/token-store.interface.js';
import { FakeClock } from '../../test-support/fake-clock.js';
import { ScriptedStrategy, unavailable } from '../../test-support/scripted-strategy.js';
import { TokenService } from './token.service.js';

const noHttp = { post: () => Promise.reject(new Error('unused')) };

/** Several TokenServices sharing one store, as several gateway instances share Redis. */
function instances(count: number, strategy: ScriptedStrategy, store: TokenStore, clock: FakeClock) {
  return Array.from({ length: count }, () => {
    const service = new TokenService(resolveOptions({ providers: [], clock, retry: { maxAttempts: 1 } }), store, noHttp);
    service.register(strategy);
    return service;
  });
}

describe('TokenService with a shared store', () => {
  it('sends one token request for concurrent cold callers on every instance', async () => {
    const clock = new FakeClock();
    const strategy = new ScriptedStrategy();
    const services = instances(4, strategy, new InMemoryTokenStore({ shared: true, now: () => clock.now() }), clock);
    const open = strategy.gate();
    const calls = services.flatMap((s) => Array.from({ length: 25 }, () => s.getToken('acme')));
    await new Promise((r) => setImmediate(r));
    open();
    const tokens = await Promise.all(calls);
    expect(strategy.calls).toHaveLength(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
  });

  it("takes the lock in turn when the holder's renewal fails, instead of every waiter fetching at once", async () => {
    const clock = new FakeClock();
    const strategy = new ScriptedStrategy().answers(unavailable('acme'), { accessToken: 'second', expiresIn: 3600 });
    const [holder, ...waiters] = instances(3, strategy, new InMemoryTokenStore({ shared: true, now: () => clock.now() }), clock);
    const open = strategy.gate();
    const failing = holder.getToken('acme').catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r)); // the holder has the lock
    const waiting = waiters.map((s) => s.getToken('acme'));
    await new Promise((r) => setImmediate(r));
    open();
    expect(await failing).toMatchObject({ kind: 'unavailable' });
    const tokens = await Promise.all(waiting);
    expect(tokens.map((t) => t.accessToken)).toEqual(['second', 'second']);
    expect(strategy.calls).toHaveLength(2); // the failed one, then one renewal for both waiters
  });

  it('never adopts back a token it invalidated, even when the store could not delete it', async () => {
    class StuckDeleteStore extends InMemoryTokenStore {
      override async deleteIfEqual(): Promise<boolean> {
        throw new Error('redis timeout');
      }
    }
    const clock = new FakeClock();
    const strategy = new ScriptedStrategy();
    const [service] = instances(1, strategy, new StuckDeleteStore({ shared: true, now: () => clock.now() }), clock);
    const refused = await service.getToken('acme');
    clock.advance(1000); // minRequestIntervalMs
    await service.invalidate('acme', refused.accessToken);
    const renewed = await service.getToken('acme');
    expect(renewed.accessToken).not.toBe(refused.accessToken);
    expect(strategy.calls).toHaveLength(2);
  });

  it('adopts the token another instance renewed, without asking the provider', async () => {
    const clock = new FakeClock();
    const strategy = new ScriptedStrategy();
    const [a, b] = instances(2, strategy, new InMemoryTokenStore({ shared: true, now: () => clock.now() }), clock);
    const first = await a.getToken('acme');
    expect(await b.getToken('acme')).toEqual(first);
    const renewed = await a.getToken('acme', { forceRefresh: true });
    await b.invalidate('acme', first.accessToken); // b's upstream refused the old one
    expect(await b.getToken('acme')).toEqual(renewed);
    expect(strategy.calls).toHaveLength(2);
  });
});
