import type { AccessToken } from '../src/interfaces/access-token.interface.js';
import type { TokenLock, TokenStore } from '../src/stores/token-store.interface.js';

type Handlers = {
  get(key: string): Promise<AccessToken | undefined>;
  set(key: string, token: AccessToken, ttlMs: number): Promise<void>;
  deleteIfEqual(key: string, accessToken: string): Promise<boolean>;
  lock(key: string, ttlMs: number): Promise<TokenLock | undefined>;
  waitFor(key: string, timeoutMs: number, notToken?: string): Promise<AccessToken | undefined>;
};

/**
 * A shared store whose answers the test scripts (one handler per method; by default: empty, the
 * lock free), recording every call in order, so a test can assert the protocol step by step.
 */
export class ScriptedStore implements TokenStore {
  readonly shared: boolean;
  readonly calls: string[] = [];
  readonly handlers: Handlers;
  degraded?: boolean;

  constructor(handlers: Partial<Handlers> = {}, options: { shared?: boolean } = {}) {
    this.shared = options.shared ?? true;
    this.handlers = {
      get: async () => undefined,
      set: async () => undefined,
      deleteIfEqual: async () => false,
      lock: async () => ({ extend: async () => true, release: async () => void this.calls.push('release') }),
      waitFor: async () => undefined,
      ...handlers,
    };
  }

  get(key: string) {
    this.calls.push('get');
    return this.handlers.get(key);
  }
  set(key: string, token: AccessToken, ttlMs: number) {
    this.calls.push('set');
    return this.handlers.set(key, token, ttlMs);
  }
  deleteIfEqual(key: string, accessToken: string) {
    this.calls.push('deleteIfEqual');
    return this.handlers.deleteIfEqual(key, accessToken);
  }
  lock(key: string, ttlMs: number) {
    this.calls.push('lock');
    return this.handlers.lock(key, ttlMs);
  }
  waitFor(key: string, timeoutMs: number, notToken?: string) {
    this.calls.push('waitFor');
    return this.handlers.waitFor(key, timeoutMs, notToken);
  }
}
