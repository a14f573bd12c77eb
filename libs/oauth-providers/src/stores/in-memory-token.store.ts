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

  constructor(options: { shared?: boolean; now?: () => number } = {}) {
    this.shared = options.shared ?? false;
    this.now = options.now ?? Date.now;
  }

  private readonly now: () => number;

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

  async lock(key: string, ttlMs: number): Promise<TokenLock | undefined> {
    const held = this.locks.get(key);
    if (held && held.expiresAt > this.now()) return undefined;
    const id = Symbol(key);
    this.locks.set(key, { id, expiresAt: this.now() + ttlMs });
    return {
      release: async () => {
        if (this.locks.get(key)?.id !== id) return;
        this.locks.delete(key);
        this.waiters.get(key)?.forEach((wake) => wake());
      },
    };
  }

  /** Resolves when a token other than `notToken` is there, or nobody holds the lock any more. */
  private lockHeld(key: string): boolean {
    const held = this.locks.get(key);
    return held !== undefined && held.expiresAt > this.now();
  }

  async waitFor(key: string, timeoutMs: number, notToken?: string): Promise<AccessToken | undefined> {
    const ready = async () => {
      const token = await this.get(key);
      return token && token.accessToken !== notToken ? token : undefined;
    };
    const now = await ready();
    if (now || !this.lockHeld(key)) return now;
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, set);
      const finish = () => {
        clearTimeout(timer);
        set.delete(wake);
        void ready().then(resolve);
      };
      const wake = () => void ready().then((t) => (t || !this.lockHeld(key)) && finish());
      const timer = setTimeout(finish, timeoutMs);
      set.add(wake);
    });
  }
}
