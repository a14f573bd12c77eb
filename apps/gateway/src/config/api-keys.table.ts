/** What a caller may do: the providers (`'*'` for all) and an optional rate limit (`N/s`, `N/m`). */
export interface KeysGrant {
  providers: '*' | string[];
  rateLimit?: string;
}

/**
 * The callers as a few flat arrays: a parser thread hands them to the event loop without copying
 * (the typed arrays are transferred) and the event loop looks a key up in them without building an
 * object per caller, so that loading many keys never holds requests up.
 *
 * `slots` is an open-addressing hash table of SHA-256 digests, which are uniformly distributed:
 * their first four bytes are the hash, a slot holds an entry's position plus one, 0 is empty.
 */
export interface KeysTable {
  /** Each entry's SHA-256, 32 bytes after 32 bytes. */
  digests: Uint8Array;
  slots: Uint32Array;
  /** The names joined together, `nameEnds[i]` the end of entry i's name. */
  names: string;
  nameEnds: Uint32Array;
  /** Each distinct grant once, `grantOf[i]` entry i's. */
  grants: KeysGrant[];
  grantOf: Uint32Array;
}

const DIGEST_BYTES = 32;

/** Collects entries, then lays them out as a `KeysTable`. */
export class KeysTableBuilder {
  private readonly digestHex: string[] = [];
  private readonly nameList: string[] = [];
  private readonly grantList: KeysGrant[] = [];
  private readonly grantIndex = new Map<string, number>();
  private readonly grantOf: number[] = [];

  get size(): number {
    return this.nameList.length;
  }

  /** `digest`: 64 hex digits. */
  add(name: string, digest: string, grant: KeysGrant): void {
    const id = JSON.stringify([grant.providers, grant.rateLimit ?? null]);
    let index = this.grantIndex.get(id);
    if (index === undefined) {
      index = this.grantList.push(grant) - 1;
      this.grantIndex.set(id, index);
    }
    this.digestHex.push(digest);
    this.nameList.push(name);
    this.grantOf.push(index);
  }

  build(): KeysTable {
    const count = this.nameList.length;
    const digests = new Uint8Array(count * DIGEST_BYTES);
    const view = Buffer.from(digests.buffer);
    this.digestHex.forEach((hex, i) => view.write(hex, i * DIGEST_BYTES, DIGEST_BYTES, 'hex'));
    // At most half full, so that a lookup probes one or two slots.
    const slots = new Uint32Array(2 ** Math.ceil(Math.log2(Math.max(2, count * 2))));
    const mask = slots.length - 1;
    for (let i = 0; i < count; i++) {
      let slot = view.readUInt32LE(i * DIGEST_BYTES) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = i + 1;
    }
    let end = 0;
    const nameEnds = Uint32Array.from(this.nameList, (name) => (end += name.length));
    return { digests, slots, names: this.nameList.join(''), nameEnds, grants: this.grantList, grantOf: Uint32Array.from(this.grantOf) };
  }
}

/** The position of the entry with this digest (32 bytes), or -1. */
export function findDigest(table: KeysTable, digest: Buffer): number {
  const { digests, slots } = table;
  const mask = slots.length - 1;
  for (let slot = digest.readUInt32LE(0) & mask; slots[slot] !== 0; slot = (slot + 1) & mask) {
    const at = (slots[slot] - 1) * DIGEST_BYTES;
    if (digest.compare(digests, at, at + DIGEST_BYTES) === 0) return slots[slot] - 1;
  }
  return -1;
}

/** Entry i's name. */
export const nameAt = (table: KeysTable, i: number): string => table.names.slice(i === 0 ? 0 : table.nameEnds[i - 1], table.nameEnds[i]);

/** The buffers a `postMessage` can move instead of copying. */
export const transferable = (table: KeysTable): ArrayBuffer[] =>
  [table.digests, table.slots, table.nameEnds, table.grantOf].map((a) => a.buffer as ArrayBuffer);
