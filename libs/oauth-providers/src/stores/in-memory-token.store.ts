import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { TokenLock, TokenStore } from './token-store.interface.js';

/**
 * The default store: a Map in this process. `shared` is false, so a single TokenService does not
 * bother with locks; but one instance handed to several TokenServices (as tests do to model
 * several gateway instances) behaves like a shared store, locks and waits included.
 */
export class InMemoryTokenStore implements TokenStore {
  readonly shared: boolean;
  private readonly entries = new Map<string, { token: AccessToken; expiresAt: number }>();
  private readonly locks = new Map<string, { id: symbol; expiresAt: number }>();
  private readonly waiters = new Map<string, Set<() => void>>();

  private readonly now: () => number;

  constructor(options: { shared?: boolean; now?: () => number } = {}) {
    this.shared = options.shared ?? false;
    this.now = options.now ?? Date.now;
  }

  async get(key: string): Promise<AccessToken | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.token;
  }

  async set(key: string, token: AccessToken, ttlMs: number): Promise<void> {
    this.entries.set(key, { token, expiresAt: this.now() + ttlMs });
    this.waiters.get(key)?.forEach((wake) => wake());
  }

  async deleteIfEqual(key: string, accessToken: string): Promise<boolean> {
    if (this.entries.get(key)?.token.accessToken !== accessToken) return false;
    this.entries.delete(key);
    return true;
  }

  async lock(key: string, leaseMs: number): Promise<TokenLock | undefined> {
    if (this.lockLeftMs(key) > 0) return undefined;
    const id = Symbol(key);
    this.locks.set(key, { id, expiresAt: this.now() + leaseMs });
    const held = () => this.locks.get(key)?.id === id && this.lockLeftMs(key) > 0;
    return {
      extend: async (ms) => {
        if (!held()) return false;
        this.locks.set(key, { id, expiresAt: this.now() + ms });
        return true;
      },
      release: async () => {
        if (this.locks.get(key)?.id !== id) return;
        this.locks.delete(key);
        this.waiters.get(key)?.forEach((wake) => wake());
      },
    };
  }

  /**
   * Resolves with a token other than `notToken` once there is one, or undefined once nobody holds
   * the lock any more (released, or expired: its holder died) or `timeoutMs` has passed.
   */
  async waitFor(key: string, timeoutMs: number, notToken?: string): Promise<AccessToken | undefined> {
    const fresh = async () => {
      const token = await this.get(key);
      return token && token.accessToken !== notToken ? token : undefined;
    };
    const first = await fresh();
    if (first || this.lockLeftMs(key) === 0) return first;
    return new Promise((resolve) => {
      const waiting = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, waiting);
      let lockTimer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (token: AccessToken | undefined) => {
        done = true;
        clearTimeout(deadline);
        clearTimeout(lockTimer);
        waiting.delete(look);
        if (waiting.size === 0) this.waiters.delete(key);
        resolve(token);
      };
      const look = () =>
        void fresh().then((token) => {
          if (token || this.lockLeftMs(key) === 0) finish(token);
          else watchLock();
        });
      // A lock is not released when its holder dies: look again when it expires.
      const watchLock = () => {
        clearTimeout(lockTimer);
        if (done) return;
        lockTimer = setTimeout(look, this.lockLeftMs(key));
      };
      const deadline = setTimeout(() => void fresh().then(finish), timeoutMs);
      waiting.add(look);
      watchLock();
    });
  }

  /** How long the lock on `key` is still held; 0 when nobody holds it. */
  private lockLeftMs(key: string): number {
    const held = this.locks.get(key);
    return held === undefined ? 0 : Math.max(0, held.expiresAt - this.now());
  }
}
