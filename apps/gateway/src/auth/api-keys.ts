import { hash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyEntry } from '../config/gateway-config.js';

/** Who called: the permissions of the key they presented (never the key itself). */
export interface Caller {
  allows(provider: string): boolean;
  readonly allowsAll: boolean;
}

/** One-shot `crypto.hash` (Node ≥ 20.12): no Hash object per request, about half the cost of `createHash`. */
const digest = (key: string) => hash('sha256', key, 'buffer');

/**
 * The callers of `GATEWAY_API_KEYS`. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`: equal lengths whatever the key, and every configured key is compared
 * (no early exit), so timing tells nothing about how much of a key was right or which one matched.
 */
export class ApiKeys {
  private readonly entries: Array<{ digest: Buffer; caller: Caller }>;

  constructor(keys: readonly ApiKeyEntry[]) {
    this.entries = keys.map(({ key, providers }) => ({
      digest: digest(key),
      caller:
        providers === '*'
          ? { allowsAll: true, allows: () => true }
          : { allowsAll: false, allows: (provider: string) => providers.has(provider) },
    }));
  }

  /** The caller for an `x-api-key` header value, or undefined (missing, repeated or unknown key). */
  authenticate(presented: string | string[] | undefined): Caller | undefined {
    if (typeof presented !== 'string' || presented === '') return undefined;
    const candidate = digest(presented);
    let found: Caller | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(candidate, entry.digest)) found = entry.caller;
    }
    return found;
  }
}
