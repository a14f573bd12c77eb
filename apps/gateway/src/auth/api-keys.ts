import { hash } from 'node:crypto';
import type { ApiKeyEntry } from '../config/gateway-config.js';
import type { RateLimitPolicy } from '../config/rate-limit.policy.js';

/** Who called: the name and permissions of the key they presented (never the key, nor its digest). */
export class Caller {
  readonly allowsAll: boolean;
  /** The key's rate-limit bucket, also its Redis key: the `{name}` hash tag keeps it in one Cluster slot. */
  readonly bucket: string;

  constructor(
    readonly name: string,
    private readonly providers: '*' | ReadonlySet<string>,
    readonly rateLimit?: RateLimitPolicy,
  ) {
    this.allowsAll = providers === '*';
    this.bucket = rateLimit ? `gateway:ratelimit:{${name}}:${rateLimit.text}` : '';
  }

  allows(provider: string): boolean {
    return this.providers === '*' || this.providers.has(provider);
  }
}

/**
 * The callers, by the SHA-256 of each key: one hash and one map lookup per presented key whatever
 * the number of keys, and nothing to learn from timing, since the lookup depends only on a digest
 * that no guess can be steered towards a real key's.
 *
 * `replace` swaps in a new set with one assignment: a request sees the old set or the new one,
 * never a mix, and a request already authenticated keeps the `Caller` it got.
 */
export class ApiKeys {
  private byDigest: ReadonlyMap<string, Caller>;

  constructor(keys: readonly ApiKeyEntry[]) {
    this.byDigest = ApiKeys.index(keys);
  }

  get size(): number {
    return this.byDigest.size;
  }

  replace(keys: readonly ApiKeyEntry[]): void {
    this.byDigest = ApiKeys.index(keys);
  }

  /** The caller for an `x-api-key` header value, or undefined (missing, repeated or unknown key). */
  authenticate(presented: string | string[] | undefined): Caller | undefined {
    if (typeof presented !== 'string' || presented === '') return undefined;
    // The digest's 32 bytes as a one-byte string: the cheapest map key for V8 to hash and compare.
    return this.byDigest.get(hash('sha256', presented, 'binary'));
  }

  private static index(keys: readonly ApiKeyEntry[]): ReadonlyMap<string, Caller> {
    const map = new Map<string, Caller>();
    for (const { name, digest, providers, rateLimit } of keys) {
      map.set(Buffer.from(digest, 'hex').toString('binary'), new Caller(name, providers, rateLimit));
    }
    return map;
  }
}
