import { describe, expect, it } from '@jest/globals';
import { resolveOptions, type OAuthModuleOptions } from '../oauth.options.js';
import { InMemoryTokenStore } from '../stores/in-memory-token.store.js';
import { FakeClock } from '../../test-support/fake-clock.js';
import { ScriptedStrategy } from '../../test-support/scripted-strategy.js';
import { noHttp } from '../../test-support/token-service.js';
import { TokenService } from './token.service.js';

/** A provider answering a new token each time, with `expiresIn` seconds of life, on a fake clock. */
function setup(options: Partial<OAuthModuleOptions> = {}, expiresIn: unknown = 3600) {
  const clock = new FakeClock();
  let n = 0;
  const strategy = new ScriptedStrategy().answers(() => ({ accessToken: `tok-${++n}`, expiresIn }));
  const service = new TokenService(
    resolveOptions({ providers: [], clock, ...options }),
    new InMemoryTokenStore({ now: () => clock.now() }),
    noHttp,
  );
  service.register(strategy);
  return { clock, service, strategy };
}

describe('TokenService: at most one renewal per provider per minRequestIntervalMs', () => {
  it('makes at most one renewal per interval for a token that lives 1 ms (expires_in: 0.001)', async () => {
    const { clock, service, strategy } = setup({}, 0.001);
    const start = clock.now();
    for (let i = 0; i < 100; i++) {
      expect((await service.getToken('acme')).accessToken).toMatch(/^tok-/);
      clock.advance(50);
    }
    const elapsed = clock.now() - start;
    expect(strategy.calls.length).toBeLessThanOrEqual(1 + elapsed / 1000);
    expect(strategy.calls.length).toBeGreaterThanOrEqual(elapsed / 1000 - 1);
  });

  it('uses a lifetime shorter than the interval for the interval', async () => {
    const { clock, service } = setup({ minRequestIntervalMs: 2000 }, 0.001);
    const token = await service.getToken('acme');
    expect(token.expiresAt - clock.now()).toBe(2000);
  });

  it('keeps the token an invalidation names while no renewal may start, and says so', async () => {
    const { clock, service, strategy } = setup();
    const first = await service.getToken('acme');
    clock.advance(999);
    expect(service.mayRenew('acme', first.accessToken)).toBe(false);
    expect(await service.invalidate('acme', first.accessToken)).toBe(false);
    expect(await service.getToken('acme')).toBe(first);
    clock.advance(1);
    expect(service.mayRenew('acme', first.accessToken)).toBe(true);
    expect(await service.invalidate('acme', first.accessToken)).toBe(true);
    expect((await service.getToken('acme')).accessToken).not.toBe(first.accessToken);
    expect(strategy.calls).toHaveLength(2);
  });

  it('lets a caller replay when the token it names was already replaced', async () => {
    const { clock, service, strategy } = setup();
    const first = await service.getToken('acme');
    clock.advance(1000);
    await service.invalidate('acme', first.accessToken);
    const second = await service.getToken('acme');
    expect(service.mayRenew('acme', first.accessToken)).toBe(true);
    expect(await service.invalidate('acme', first.accessToken)).toBe(true);
    expect(await service.getToken('acme')).toBe(second);
    expect(strategy.calls).toHaveLength(2);
  });

  it('makes at most one renewal per interval for 100 invalidations in a row, one a caller', async () => {
    const { clock, service, strategy } = setup();
    const start = clock.now();
    for (let i = 0; i < 100; i++) {
      const token = await service.getToken('acme');
      await service.invalidate('acme', token.accessToken);
      clock.advance(20);
    }
    expect(strategy.calls.length).toBeLessThanOrEqual(1 + (clock.now() - start) / 1000);
  });

  it('holds a renewal that may not start yet (forced, or in the background) until the interval has passed', async () => {
    const { clock, service, strategy } = setup();
    await service.getToken('acme');
    clock.advance(300);
    await service.getToken('acme', { forceRefresh: true });
    await service.refreshInBackground('acme');
    expect(clock.sleeps).toEqual([700, 1000]);
    expect(strategy.calls).toHaveLength(3);
  });

  it('does not hold renewals back with minRequestIntervalMs: 0', async () => {
    const { clock, service, strategy } = setup({ minRequestIntervalMs: 0 }, 0.001);
    for (let i = 0; i < 10; i++) {
      const token = await service.getToken('acme');
      expect(service.mayRenew('acme', token.accessToken)).toBe(true);
      expect(await service.invalidate('acme', token.accessToken)).toBe(true);
    }
    expect(strategy.calls).toHaveLength(10);
    expect(clock.sleeps).toEqual([]);
  });
});
