import { Logger } from '@nestjs/common';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import type { TokenLock, TokenStore } from '../stores/token-store.interface.js';
import { isValid } from './token-lifetime.js';
import { waitEvent, type TraceContext } from './token-tracing.js';

/** How one renewal ends, supplied by the service: keeping another instance's token, or fetching one. */
export interface RenewalSteps {
  /** Keeps a valid token another instance stored, and returns it. */
  adopt(token: AccessToken): AccessToken;
  /** Fetches a token from the provider, keeps it and writes it to the store (`save`). */
  fetch(): Promise<AccessToken>;
  /** The trace of the caller that started the renewal, where a wait on the lock is marked. */
  traceContext?: TraceContext;
}

type SyncOptions = Pick<ResolvedOAuthOptions, 'clock' | 'clusterWaitMs' | 'refreshSkewMs'>;

/**
 * The renewal lock's lease: its holder extends it while its token request is in flight, so a lock
 * left by a holder that died, or taken by a command Redis ran after its sender gave up, frees
 * itself within one lease.
 */
export const LOCK_LEASE_MS = 2000;

/**
 * The shared-store protocol around a renewal: with a store several instances share, one instance
 * fetches per provider and the others adopt its token (a cluster-wide single flight). Store calls
 * never fail a token request: when the store cannot be reached the instance works from its local
 * copy, fetches for itself, and reports the store degraded until a call succeeds again.
 */
export class TokenStoreSync {
  private readonly logger = new Logger('TokenStoreSync');
  private degradedSince?: number;

  constructor(
    private readonly store: TokenStore,
    private readonly options: SyncOptions,
  ) {}

  get shared(): boolean {
    return this.store.shared;
  }

  /** The store's own view when it has one (a Redis connection's state), else whether the last call failed. */
  isDegraded(): boolean {
    return this.store.isDegraded?.() ?? this.degradedSince !== undefined;
  }

  /**
   * Adopts another instance's fresh token, else takes the cluster lock and fetches; an instance that
   * finds the lock taken waits for the holder's result, and takes the lock itself if the holder gave
   * up or died. Only when the store is unreachable, or the bounded wait has passed, does it fetch
   * without the lock. `replacing` (the token being replaced, or the one just invalidated) is never
   * adopted back.
   */
  async renew(key: string, replacing: string | undefined, steps: RenewalSteps): Promise<AccessToken> {
    if (!this.store.shared) return steps.fetch();
    const { clock } = this.options;
    const deadline = clock.now() + this.options.clusterWaitMs;
    for (;;) {
      const shared = await this.adoptable(key, replacing);
      if (shared) return steps.adopt(shared);
      const lock = await this.guard(() => this.store.lock(key, LOCK_LEASE_MS), null);
      if (lock === null) return steps.fetch(); // store down: local single flight only
      if (lock) return this.holding(lock, key, replacing, steps);
      const remaining = deadline - clock.now();
      if (remaining <= 0) return steps.fetch();
      const waitedFrom = clock.now();
      const theirs = await this.guard(() => this.store.waitFor(key, remaining, replacing), undefined);
      const waited = clock.now() - waitedFrom;
      waitEvent(steps.traceContext, 'oauth.store_lock_wait', { 'oauth.wait_ms': waited });
      if (waited > LOCK_LEASE_MS) this.logger.warn(`${key}: renewal waited ${waited} ms on another instance's lock`);
      if (theirs && this.freshOther(theirs, replacing)) return steps.adopt(theirs);
      // No result: the holder failed or died (its lock is gone), so go round and take the lock.
    }
  }

  /** Writes a fetched token for the other instances; it leaves the store when it expires. */
  async save(key: string, token: AccessToken, ttlMs: number): Promise<void> {
    await this.guard(() => this.store.set(key, token, ttlMs), undefined);
  }

  /** Deletes the stored token only if it is still `accessToken`. */
  async drop(key: string, accessToken: string): Promise<void> {
    await this.guard(() => this.store.deleteIfEqual(key, accessToken), false);
  }

  private async adoptable(key: string, replacing: string | undefined): Promise<AccessToken | undefined> {
    const token = await this.guard(() => this.store.get(key), undefined);
    return token && this.freshOther(token, replacing) ? token : undefined;
  }

  private freshOther(token: AccessToken, replacing: string | undefined): boolean {
    return token.accessToken !== replacing && isValid(token, this.options.clock.now(), this.options.refreshSkewMs);
  }

  /** Renews under the lock, extending its lease until the renewal ends, then releases it. */
  private async holding(lock: TokenLock, key: string, replacing: string | undefined, steps: RenewalSteps): Promise<AccessToken> {
    const keepAlive = setInterval(() => void this.guard(() => lock.extend(LOCK_LEASE_MS), false), LOCK_LEASE_MS / 4);
    keepAlive.unref();
    let theirs: AccessToken | undefined;
    try {
      // The holder before us may have finished between our read and our lock.
      theirs = await this.adoptable(key, replacing);
      if (!theirs) return await steps.fetch();
    } finally {
      clearInterval(keepAlive);
      await this.guard(() => lock.release(), undefined);
    }
    // Adopting is the renewal's last step: whatever its token starts (the next renewal) starts after this one.
    return steps.adopt(theirs);
  }

  private async guard<T, F>(call: () => Promise<T>, fallback: F): Promise<T | F> {
    try {
      const result = await call();
      if (this.degradedSince !== undefined && !this.store.isDegraded) {
        this.logger.log(`token store answering again after ${this.options.clock.now() - this.degradedSince} ms`);
      }
      this.degradedSince = undefined;
      return result;
    } catch (error) {
      if (this.degradedSince === undefined) {
        this.degradedSince = this.options.clock.now();
        // A store that reports its own health (isDegraded) also writes its own lines.
        if (!this.store.isDegraded) this.logger.warn(`token store unreachable, working from local copies: ${(error as Error).message}`);
      }
      return fallback;
    }
  }
}
