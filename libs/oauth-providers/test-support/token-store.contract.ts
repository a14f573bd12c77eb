import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AccessToken } from '../src/interfaces/access-token.interface.js';
import type { TokenLock, TokenStore } from '../src/stores/token-store.interface.js';
import { uniqueName } from './redis-test-helpers.js';
import { waitUntil } from '../../../test/support/helpers.js';

/** What the contract needs from a store implementation. */
export interface TokenStoreFixture {
  /** The store under test. */
  store: TokenStore;
  /**
   * Another instance on the same data, as a second gateway would hold; it must not find out about
   * new tokens by polling (a Redis store with a poll interval far beyond the test's bounds).
   */
  peer(): TokenStore;
  /** Resolves once a `waitFor` on `key` listens for wake-ups, so a `set` made now is not missed. */
  untilWaiting(key: string): Promise<void>;
  /** For a store on a server: what it takes to hang that server; absent for a store in this process. */
  faults?: StoreFaults;
  close(): Promise<void>;
}

export interface StoreFaults {
  /** Stops the server from answering (its input is queued, as SIGSTOP does) until `resume` is called. */
  hang(): Promise<() => Promise<void>>;
  /** Another instance on the same data, connected, whose commands give up after a short timeout as production's do. */
  impatient(): Promise<TokenStore>;
}

/** A token key as the service builds them, unique to the test. */
export const tokenKey = () => `oauth:{${uniqueName('store-spec')}}:${randomBytes(16).toString('hex')}`;

export function sampleToken(overrides: Partial<AccessToken> = {}): AccessToken {
  const now = Date.now();
  return {
    provider: 'acme',
    accessToken: `at-${randomBytes(16).toString('hex')}`,
    refreshToken: `rt-${randomBytes(16).toString('hex')}`,
    tokenType: 'Bearer',
    obtainedAt: now,
    expiresAt: now + 3_600_000,
    ...overrides,
  };
}

/**
 * The `TokenStore` contract, run against every store: what the service relies on for the
 * cluster-wide single flight (get / set with TTL / delete-if-equal / lock / waitFor).
 */
export function describeTokenStoreContract(
  name: string,
  open: () => Promise<TokenStoreFixture>,
  options: { skip?: boolean; faults?: boolean } = {},
): void {
  const itFaults = options.faults ? it : it.skip;
  (options.skip ? describe.skip : describe)(`${name}: TokenStore contract`, () => {
    let fixture: TokenStoreFixture;
    let store: TokenStore;
    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterAll(() => fixture.close());

    it('reads back what it stored, until the TTL passes', async () => {
      const key = tokenKey();
      const t = sampleToken();
      await store.set(key, t, 300);
      expect(await store.get(key)).toEqual(t);
      await waitUntil(async () => (await store.get(key)) === undefined, 'the entry to expire', 5000);
    });

    it('deleteIfEqual deletes only the token it was given', async () => {
      const key = tokenKey();
      const t = sampleToken();
      await store.set(key, t, 60_000);
      expect(await store.deleteIfEqual(key, 'another-token')).toBe(false);
      expect(await store.get(key)).toEqual(t);
      expect(await store.deleteIfEqual(key, t.accessToken)).toBe(true);
      expect(await store.get(key)).toBeUndefined();
      expect(await store.deleteIfEqual(key, t.accessToken)).toBe(false);
    });

    it('lock is exclusive, expires, and is released only by its holder', async () => {
      const key = tokenKey();
      const first = await store.lock(key, 200);
      expect(first).toBeDefined();
      expect(await store.lock(key, 10_000)).toBeUndefined();

      let second: TokenLock | undefined;
      await waitUntil(async () => (second = await store.lock(key, 10_000)) !== undefined, 'the first lock to expire', 5000);
      await first!.release(); // expired: must not free the second holder's lock
      expect(await store.lock(key, 10_000)).toBeUndefined();

      await second!.release();
      expect(await store.lock(key, 10_000)).toBeDefined();
    });

    it('waitFor wakes on set, not by polling', async () => {
      const key = tokenKey();
      const waiter = fixture.peer();
      await store.lock(key, 10_000);
      const started = Date.now();
      const waiting = waiter.waitFor(key, 20_000);
      await fixture.untilWaiting(key);
      const t = sampleToken();
      await store.set(key, t, 60_000);
      expect(await waiting).toEqual(t);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('waitFor keeps waiting while the entry holds the token being replaced', async () => {
      const key = tokenKey();
      const old = sampleToken();
      const fresh = sampleToken();
      await store.set(key, old, 60_000);
      await store.lock(key, 10_000);
      const waiting = store.waitFor(key, 20_000, old.accessToken);
      await fixture.untilWaiting(key);
      await store.set(key, fresh, 60_000);
      expect(await waiting).toEqual(fresh);
    });

    it('waitFor gives up at its timeout while the lock is held', async () => {
      const key = tokenKey();
      await store.lock(key, 10_000);
      const started = Date.now();
      expect(await store.waitFor(key, 300)).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('waitFor stops as soon as the holder releases without a token', async () => {
      const key = tokenKey();
      const waiter = fixture.peer();
      const lock = await store.lock(key, 10_000);
      const waiting = waiter.waitFor(key, 20_000);
      await fixture.untilWaiting(key);
      const released = Date.now();
      await lock!.release();
      expect(await waiting).toBeUndefined();
      expect(Date.now() - released).toBeLessThan(5000);
    });

    it('waitFor stops once the lock of a holder that died expires', async () => {
      const key = tokenKey();
      await store.lock(key, 300); // never released
      const started = Date.now();
      expect(await store.waitFor(key, 20_000)).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('a holder keeps its lock by extending the lease; once it stops (it died), the lock frees itself within one lease', async () => {
      const key = tokenKey();
      const lock = await store.lock(key, 1000);
      for (let i = 0; i < 4; i++) {
        expect(await lock!.extend(1000)).toBe(true);
        expect(await store.lock(key, 10_000)).toBeUndefined();
        await sleep(300); // four rounds outlast the first lease
      }
      const died = Date.now();
      expect(await store.waitFor(key, 20_000)).toBeUndefined();
      expect(Date.now() - died).toBeLessThan(3000);
      expect(await lock!.extend(1000)).toBe(false);
    });

    itFaults(
      'a lock whose acquisition timed out, and that the server took later, is released by its sender once the server answers',
      async () => {
        const key = tokenKey();
        const sender = await fixture.faults!.impatient();
        const resume = await fixture.faults!.hang();
        await expect(sender.lock(key, 60_000)).rejects.toThrow();
        await resume();
        // The lease asked for is a minute: only the sender's release frees the lock within the bound.
        await waitUntil(async () => (await store.lock(key, 10_000)) !== undefined, 'the late lock to be released', 3000);
      },
    );

    itFaults('after a hung server resumes, no lock is held by nobody for more than one lease', async () => {
      const key = tokenKey();
      const [holder, sender] = await Promise.all([fixture.faults!.impatient(), fixture.faults!.impatient()]);
      const lock = await holder.lock(key, 1000);
      const resume = await fixture.faults!.hang();
      await expect(lock!.extend(1000)).rejects.toThrow();
      await expect(sender.lock(key, 1000)).rejects.toThrow();
      await sleep(1000); // the hang outlasts the holder's lease
      await resume();
      const resumed = Date.now();
      expect(await store.waitFor(key, 20_000)).toBeUndefined();
      expect(Date.now() - resumed).toBeLessThan(3000);
      await waitUntil(async () => (await store.lock(key, 10_000)) !== undefined, 'the lock to be free', 3000);
    });
  });
}
