import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** A 32-byte key: a Buffer, or a string in hex (64 characters) or base64 / base64url. */
export type TokenEncryptionKey = string | Uint8Array;

/** What `new TokenCipher()` takes: the current key, and the earlier ones still accepted for reading. */
export interface TokenCipherOptions {
  /** Encrypts what is written; without it values are sealed as clear text (never in production). */
  encryptionKey?: TokenEncryptionKey;
  /** Keys retired by a rotation, still used to read (and match) entries written with them. */
  previousKeys?: TokenEncryptionKey[];
}

interface KeySlot {
  /** Public id stored beside each ciphertext, so a reader picks the right key after a rotation. */
  id: string;
  aes: Buffer;
  fingerprint: Buffer;
}

const IV_BYTES = 12; // the GCM standard nonce size (NIST SP 800-38D)

/**
 * AES-256-GCM encryption of stored tokens, with key rotation: `seal` always uses the current key
 * and tags the result with its key id; `open` finds the key by id among current and previous keys.
 * The context (the store key) is authenticated data, so a value copied under another key is refused.
 */
export class TokenCipher {
  private readonly current?: KeySlot;
  private readonly slots: KeySlot[];

  constructor(options: TokenCipherOptions = {}) {
    const keys = [options.encryptionKey, ...(options.previousKeys ?? [])].filter((k) => k !== undefined);
    if (options.encryptionKey === undefined && keys.length > 0) {
      throw new Error('token store: previousKeys given without a current encryptionKey');
    }
    this.slots = keys.map(toSlot);
    this.current = this.slots[0];
  }

  get encrypts(): boolean {
    return this.current !== undefined;
  }

  /** `keyId.iv.tag.ciphertext`, base64url parts. */
  seal(plaintext: string, context: string): string {
    if (!this.current) throw new Error('token store: no encryption key to seal with');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.aes, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [this.current.id, iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  /** The plaintext, or undefined when no configured key wrote it or it was tampered with. */
  open(sealed: string, context: string): string | undefined {
    const [id, iv, tag, data] = sealed.split('.');
    const slot = this.slots.find((s) => s.id === id);
    if (!slot || iv === undefined || tag === undefined || data === undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', slot.aes, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  /**
   * What identifies a token without revealing it, one per configured key (current first), so an
   * entry written before a rotation still matches. Keyed HMAC-SHA256: a plain hash of a token
   * would let anyone holding a token confirm it against Redis. Without a key: SHA-256.
   */
  fingerprints(token: string): string[] {
    if (this.slots.length === 0) return [createHash('sha256').update(token).digest('base64url')];
    return this.slots.map((s) => createHmac('sha256', s.fingerprint).update(token).digest('base64url'));
  }
}

/**
 * Reads a key in any accepted form, the one set of rules for the library and the gateway: 32 bytes
 * given as bytes, as 64 hex digits, or as base64 / base64url in canonical form (43 characters, with
 * or without its one `=`); whitespace around a string is ignored. The message never holds the key.
 */
export function parseEncryptionKey(key: TokenEncryptionKey): Buffer {
  const bytes = typeof key === 'string' ? decodeKeyText(key.trim()) : Buffer.from(key);
  if (bytes === undefined) throw new Error('token encryption key must be 32 bytes given as hex or base64 (it is neither)');
  if (bytes.length !== 32) {
    throw new Error(`token encryption key must be 32 bytes given as hex or base64 (it decodes to ${bytes.length} bytes)`);
  }
  return bytes;
}

/**
 * Hex when the text is hex digits in pairs; else base64 (RFC 4648 §4) or base64url (§5), refused
 * unless it is the one encoding of its bytes, since Node's decoder skips what it cannot read.
 */
function decodeKeyText(text: string): Buffer | undefined {
  if (/^(?:[0-9a-fA-F]{2})+$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || (text.endsWith('=') && text.length % 4 !== 0)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  const canonical = bytes.toString('base64url');
  return canonical === text.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_') ? bytes : undefined;
}

function toSlot(key: TokenEncryptionKey): KeySlot {
  const aes = parseEncryptionKey(key);
  // Separate keys for separate uses, derived from the one the operator manages (RFC 5869).
  const derive = (info: string, length: number) => Buffer.from(hkdfSync('sha256', aes, Buffer.alloc(0), info, length));
  return {
    id: derive('oauth-token-store key id', 6).toString('base64url'),
    aes,
    fingerprint: derive('oauth-token-store fingerprint', 32),
  };
}
