import { timingSafeEqual } from 'node:crypto';
import type { ApiKeyEntry } from '../config/gateway-config.js';

/** Who called: the permissions of the key they presented (never the key itself). */
export interface Caller {
  allows(provider: string): boolean;
  readonly allowsAll: boolean;
}

/**
 * The callers of `GATEWAY_API_KEYS`. A presented key is compared with every configured key (no
 * early exit, so timing tells nothing about which one matched) by `timingSafeEqual` over the same
 * width: UTF-8 bytes (an injective encoding: two different keys never compare equal), zero-padded
 * to the longest configured key, the byte lengths compared as well. So the time taken depends
 * on neither how much of a key was right nor its length; a presented key longer than every
 * configured one is refused before any comparison, which tells only that. No digest per request:
 * SHA-256 of the presented key (the usual way to equalise lengths) was 2% of the proxy's CPU.
 */
export class ApiKeys {
  private readonly entries: Array<{ padded: Buffer; bytes: number; caller: Caller }>;
  private readonly width: number;
  /** The presented key, padded; reused by every request (the event loop runs one at a time). */
  private readonly scratch: Buffer;

  constructor(keys: readonly ApiKeyEntry[]) {
    this.width = Math.max(0, ...keys.map(({ key }) => Buffer.byteLength(key)));
    this.scratch = Buffer.alloc(this.width);
    this.entries = keys.map(({ key, providers }) => {
      const padded = Buffer.alloc(this.width);
      padded.write(key, 'utf8');
      return {
        padded,
        bytes: Buffer.byteLength(key),
        caller:
          providers === '*'
            ? { allowsAll: true, allows: () => true }
            : { allowsAll: false, allows: (provider: string) => providers.has(provider) },
      };
    });
  }

  /** The caller for an `x-api-key` header value, or undefined (missing, repeated or unknown key). */
  authenticate(presented: string | string[] | undefined): Caller | undefined {
    if (typeof presented !== 'string' || presented === '') return undefined;
    const bytes = Buffer.byteLength(presented);
    if (bytes > this.width) return undefined;
    this.scratch.fill(0);
    this.scratch.write(presented, 'utf8');
    let found: Caller | undefined;
    for (const entry of this.entries) {
      const same = timingSafeEqual(this.scratch, entry.padded);
      if (same && bytes === entry.bytes) found = entry.caller;
    }
    return found;
  }
}
