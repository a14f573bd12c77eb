import type { AccessToken } from '../interfaces/access-token.interface.js';

/** A lock held by one instance for a lease; `extend` and `release` only act while it is still this holder's. */
export interface TokenLock {
  /** Makes the lock last `leaseMs` from now; false when it is no longer this holder's (expired, taken by another). */
  extend(leaseMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Where tokens live beyond one TokenService's own local copy. The service keeps a local copy in
 * front of every store, so the hot path never reaches the store while that copy is valid.
 *
 * Keys are built by the service (`oauth:{provider}:<hash of identity>`), never contain secrets.
 * Every method may reject (Redis down): the service then degrades to its local copy.
 */
export interface TokenStore {
  /** True when several processes share the store (then the service uses `lock` + `waitFor`). */
  readonly shared: boolean;
  get(key: string): Promise<AccessToken | undefined>;
  /** Stores the token; it disappears by itself after `ttlMs`. */
  set(key: string, token: AccessToken, ttlMs: number): Promise<void>;
  /** Deletes the entry only if it still holds `accessToken`; true when it deleted. */
  deleteIfEqual(key: string, accessToken: string): Promise<boolean>;
  /**
   * Tries once to take the renewal lock for `key` for a lease of `leaseMs` (its holder extends it);
   * undefined when another holder has it. When the attempt fails or times out, a lock the store may
   * still take later for it must be released by the store as soon as it answers, or expire.
   */
  lock(key: string, leaseMs: number): Promise<TokenLock | undefined>;
  /**
   * Waits until the entry holds a token other than `notToken` (the one being replaced), the lock is
   * no longer held (its holder gave up or died), or `timeoutMs` passes. Resolves with a token other
   * than `notToken`, or undefined.
   */
  waitFor(key: string, timeoutMs: number, notToken?: string): Promise<AccessToken | undefined>;
  /**
   * Waits (at most `timeoutMs`) for the store's connection, so an instance that starts does not
   * spend its first requests degraded; false when it is not there in time (the app starts anyway).
   */
  ready?(timeoutMs: number): Promise<boolean>;
  /**
   * True while the store cannot be reached and the service works from local copies. A store that
   * has it also logs its own outages; without it, the service logs when a call fails and succeeds again.
   */
  isDegraded?(): boolean;
  close?(): Promise<void>;
}

/** Injection token for the store, named like the interface (cf. `ThrottlerStorage`). */
export const TokenStore = Symbol('TokenStore');
