import { hash } from 'node:crypto';
import { grantsOf, tableOf } from '../config/api-keys.config.js';
import { findDigest, nameAt, type KeysTable } from '../config/api-keys.table.js';
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

/** A table of keys, its grants as the request path uses them, and the callers met so far. */
interface KeySet {
  table: KeysTable;
  grants: Array<Pick<ApiKeyEntry, 'providers' | 'rateLimit'>>;
  /** By the digest as a one-byte string. */
  callers: Map<string, Caller>;
}

/**
 * The callers, by the SHA-256 of each key: one hash and one map lookup per presented key whatever
 * the number of keys (a key new to the map also one probe of the table), and nothing to learn from
 * timing, since the lookup depends only on a digest that no guess can be steered towards a real
 * key's. A `Caller` is made the first time its key is seen, so that loading a set makes no object
 * per key.
 *
 * `replace` swaps in a new set with one assignment: a request sees the old set or the new one,
 * never a mix, and a request already authenticated keeps the `Caller` it got.
 */
export class ApiKeys {
  private set: KeySet;

  constructor(keys: readonly ApiKeyEntry[]) {
    this.set = ApiKeys.setOf(tableOf(keys));
  }

  get size(): number {
    return this.set.table.grantOf.length;
  }

  replace(keys: readonly ApiKeyEntry[]): void {
    this.set = ApiKeys.setOf(tableOf(keys));
  }

  /** A table read by the parser thread: nothing per key to build here. */
  replaceTable(table: KeysTable): void {
    this.set = ApiKeys.setOf(table);
  }

  /** The caller for an `x-api-key` header value, or undefined (missing, repeated or unknown key). */
  authenticate(presented: string | string[] | undefined): Caller | undefined {
    if (typeof presented !== 'string' || presented === '') return undefined;
    // The digest's 32 bytes as a one-byte string: the cheapest map key for V8 to hash and compare.
    const digest = hash('sha256', presented, 'binary');
    const set = this.set;
    return set.callers.get(digest) ?? ApiKeys.find(set, digest);
  }

  /** A key not seen yet in this set: looked up in the table, and its caller kept for the next request. */
  private static find(set: KeySet, digest: string): Caller | undefined {
    const index = findDigest(set.table, Buffer.from(digest, 'latin1'));
    if (index === -1) return undefined;
    const { providers, rateLimit } = set.grants[set.table.grantOf[index]];
    const caller = new Caller(nameAt(set.table, index), providers, rateLimit);
    set.callers.set(digest, caller);
    return caller;
  }

  private static setOf(table: KeysTable): KeySet {
    return { table, grants: grantsOf(table), callers: new Map() };
  }
}
