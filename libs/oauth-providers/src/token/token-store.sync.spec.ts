import { describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { resolveOptions, type OAuthModuleOptions } from '../oauth.options.js';
import { InMemoryTokenStore } from '../stores/in-memory-token.store.js';
import type { TokenStore } from '../stores/token-store.interface.js';
import { FakeClock } from '../../test-support/fake-clock.js';
import { ScriptedStore } from '../../test-support/scripted-store.js';
import { LOCK_LEASE_MS, TokenStoreSync, type RenewalSteps } from './token-store.sync.js';

const KEY = 'oauth:{acme}:0123';

function setup(store: TokenStore, options: Partial<OAuthModuleOptions> = {}) {
  const clock = new FakeClock();
  const sync = new TokenStoreSync(store, resolveOptions({ providers: [], clock, ...options }));
  const token = (accessToken: string, lifeMs = 3_600_000): AccessToken => ({
    provider: 'acme',
    accessToken,
    tokenType: 'Bearer',
    obtainedAt: clock.now(),
    expiresAt: clock.now() + lifeMs,
  });
  /** Steps that record what the sync chose; `fetch` answers `fetched` (and writes it, as the service does). */
  const steps = (fetched = token('fetched'), trace: string[] = []): RenewalSteps & { trace: string[] } => ({
    trace,
    adopt: (t) => (trace.push(`adopt ${t.accessToken}`), t),
    fetch: async () => {
      trace.push('fetch');
      await sync.save(KEY, fetched, 60_000);
      return fetched;
    },
  });
  return { clock, sync, token, steps };
}

describe('TokenStoreSync', () => {
  it('fetches at once, without reading the store, when the store is not shared', async () => {
    const store = new ScriptedStore({}, { shared: false });
    const { sync, steps } = setup(store);
    const s = steps();
    expect((await sync.renew(KEY, undefined, s)).accessToken).toBe('fetched');
    expect(s.trace).toEqual(['fetch']);
    expect(store.calls).toEqual(['set']);
  });

  it("adopts another instance's valid token without taking the lock", async () => {
    const { sync, steps, token } = setup(new ScriptedStore({ get: async () => token('theirs') }));
    const s = steps();
    expect((await sync.renew(KEY, 'old', s)).accessToken).toBe('theirs');
    expect(s.trace).toEqual(['adopt theirs']);
  });

  it('never adopts the token being replaced, nor one past its validity: takes the lock and fetches', async () => {
    for (const [stored, lifeMs] of [
      ['old', 3_600_000],
      ['stale', 1000],
    ] as const) {
      const store = new ScriptedStore();
      const { sync, steps, token, clock } = setup(store);
      const entry = token(stored, lifeMs);
      store.handlers.get = async () => entry;
      clock.advance(600); // past half of the stale token's 1 s life: no longer valid
      const s = steps();
      await sync.renew(KEY, 'old', s);
      expect(s.trace).toEqual(['fetch']);
      expect(store.calls).toEqual(['get', 'lock', 'get', 'set', 'release']);
    }
  });

  it('looks again once it holds the lock, and adopts what the previous holder stored meanwhile', async () => {
    const store = new ScriptedStore();
    const { sync, steps, token } = setup(store);
    let reads = 0;
    store.handlers.get = async () => (++reads === 2 ? token('just-stored') : undefined);
    expect((await sync.renew(KEY, undefined, steps())).accessToken).toBe('just-stored');
    expect(store.calls).toEqual(['get', 'lock', 'get', 'release']);
  });

  it('adopts what it found under the lock only once the lock is released: the renewal ends with its token', async () => {
    const store = new ScriptedStore();
    const { sync, token } = setup(store);
    let reads = 0;
    store.handlers.get = async () => (++reads === 2 ? token('just-stored') : undefined);
    await sync.renew(KEY, undefined, {
      adopt: (t) => (store.calls.push('adopt'), t),
      fetch: () => Promise.reject(new Error('not called')),
    });
    expect(store.calls).toEqual(['get', 'lock', 'get', 'release', 'adopt']);
  });

  it('releases the lock when the fetch fails, and passes the failure on', async () => {
    const store = new ScriptedStore();
    const { sync } = setup(store);
    const failure = new Error('endpoint down');
    await expect(sync.renew(KEY, undefined, { adopt: (t) => t, fetch: () => Promise.reject(failure) })).rejects.toBe(failure);
    expect(store.calls).toEqual(['get', 'lock', 'get', 'release']);
  });

  it('waits for the lock holder and adopts its token', async () => {
    const store = new ScriptedStore({ lock: async () => undefined });
    const { sync, steps, token } = setup(store);
    store.handlers.waitFor = async () => token('holders');
    const s = steps();
    expect((await sync.renew(KEY, 'old', s)).accessToken).toBe('holders');
    expect(store.calls).toEqual(['get', 'lock', 'waitFor']);
  });

  it('takes the lock itself when the holder gave up without a token', async () => {
    let locks = 0;
    const store = new ScriptedStore({
      lock: async () => (++locks === 1 ? undefined : { extend: async () => true, release: async () => void store.calls.push('release') }),
    });
    const { sync, steps } = setup(store);
    const s = steps();
    expect((await sync.renew(KEY, undefined, s)).accessToken).toBe('fetched');
    expect(store.calls).toEqual(['get', 'lock', 'waitFor', 'get', 'lock', 'get', 'set', 'release']);
  });

  it('fetches without the lock once the bounded wait has passed', async () => {
    const store = new ScriptedStore({ lock: async () => undefined });
    const { sync, steps, clock } = setup(store, { clusterWaitMs: 5000 });
    store.handlers.waitFor = async (_key, timeoutMs) => {
      expect(timeoutMs).toBe(5000);
      clock.advance(timeoutMs);
      return undefined;
    };
    const s = steps();
    expect((await sync.renew(KEY, undefined, s)).accessToken).toBe('fetched');
    expect(store.calls).toEqual(['get', 'lock', 'waitFor', 'get', 'lock', 'set']);
  });

  it('fetches alone when the store is unreachable, reports it degraded with one log line, and recovers when it answers', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const down = () => Promise.reject(new Error('connection refused'));
      const store = new ScriptedStore({ get: down, lock: down, set: down, deleteIfEqual: down });
      const { sync, steps } = setup(store);
      expect(sync.isDegraded()).toBe(false);
      const s = steps();
      expect((await sync.renew(KEY, undefined, s)).accessToken).toBe('fetched');
      expect(s.trace).toEqual(['fetch']);
      await sync.drop(KEY, 'fetched'); // never rejects either
      expect(sync.isDegraded()).toBe(true);
      expect(warn.mock.calls.map(([message]): unknown => message)).toEqual([
        'token store unreachable, working from local copies: connection refused',
      ]);

      store.handlers.get = async () => undefined;
      store.handlers.lock = async () => ({ extend: async () => true, release: async () => undefined });
      store.handlers.set = async () => undefined;
      store.handlers.deleteIfEqual = async () => false;
      await sync.renew(KEY, undefined, steps());
      expect(sync.isDegraded()).toBe(false);
    } finally {
      warn.mockRestore();
    }
  });

  it("uses the store's own view of its health when it has one", () => {
    const store = Object.assign(new ScriptedStore(), { isDegraded: () => true });
    expect(setup(store).sync.isDegraded()).toBe(true);
  });

  it('sends one fetch for instances renewing at once on one shared in-memory store', async () => {
    const clock = new FakeClock();
    const store = new InMemoryTokenStore({ shared: true, now: () => clock.now() });
    const syncs = Array.from({ length: 3 }, () => new TokenStoreSync(store, resolveOptions({ providers: [], clock })));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const fetched: AccessToken = {
      provider: 'acme',
      accessToken: 'one',
      tokenType: 'Bearer',
      obtainedAt: clock.now(),
      expiresAt: clock.now() + 3_600_000,
    };
    let fetches = 0;
    const renewals = syncs.map((sync) =>
      sync.renew(KEY, undefined, {
        adopt: (t) => t,
        fetch: async () => {
          fetches++;
          await gate;
          await sync.save(KEY, fetched, 60_000);
          return fetched;
        },
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    open();
    expect((await Promise.all(renewals)).map((t) => t.accessToken)).toEqual(['one', 'one', 'one']);
    expect(fetches).toBe(1);
  });

  it('takes the lock for one lease and extends it while the fetch is in flight, not after', async () => {
    jest.useFakeTimers();
    try {
      const leases: number[] = [];
      const store = new ScriptedStore();
      store.handlers.lock = async (_key, leaseMs) => {
        leases.push(leaseMs);
        return { extend: async (ms) => (leases.push(ms), true), release: async () => void store.calls.push('release') };
      };
      const { sync, token } = setup(store);
      let finish!: (t: AccessToken) => void;
      const renewal = sync.renew(KEY, undefined, { adopt: (t) => t, fetch: () => new Promise((resolve) => (finish = resolve)) });
      await jest.advanceTimersByTimeAsync(LOCK_LEASE_MS - 1); // extended every quarter of a lease: three times
      finish(token('fetched'));
      await renewal;
      await jest.advanceTimersByTimeAsync(LOCK_LEASE_MS * 2);
      expect(leases).toEqual(Array(4).fill(LOCK_LEASE_MS));
      expect(store.calls).toEqual(['get', 'lock', 'get', 'release']);
    } finally {
      jest.useRealTimers();
    }
  });

  it("logs a renewal that waited on another instance's lock longer than a lease", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const store = new ScriptedStore({ lock: async () => undefined });
      const { sync, steps, token, clock } = setup(store);
      store.handlers.waitFor = async () => (clock.advance(LOCK_LEASE_MS + 500), token('holders'));
      await sync.renew(KEY, undefined, steps());
      expect(warn.mock.calls.map(([message]): unknown => message)).toEqual([
        `${KEY}: renewal waited ${LOCK_LEASE_MS + 500} ms on another instance's lock`,
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});
