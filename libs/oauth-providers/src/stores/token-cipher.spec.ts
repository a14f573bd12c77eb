import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseEncryptionKey, TokenCipher } from './token-cipher.js';

const keyA = randomBytes(32);

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Every way an operator may write `bytes`, as the rules accept them. */
const writings = (bytes: Buffer): string[] => [
  bytes.toString('hex'),
  bytes.toString('hex').toUpperCase(),
  bytes.toString('base64'),
  bytes.toString('base64').replace(/=+$/, ''),
  bytes.toString('base64url'),
  `${bytes.toString('base64url')}=`,
  `  ${bytes.toString('base64')}\n`,
];

const refused = (text: string) => {
  try {
    parseEncryptionKey(text);
    return false;
  } catch {
    return true;
  }
};

describe('TokenCipher', () => {
  it('accepts a 32-byte key as hex, base64, base64url or bytes', () => {
    for (const form of [keyA.toString('hex'), keyA.toString('base64'), keyA.toString('base64url'), keyA]) {
      expect(parseEncryptionKey(form).equals(keyA)).toBe(true);
    }
  });

  it('refuses a key of another length without echoing it', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => parseEncryptionKey(short)).toThrow(/32 bytes .*16 bytes/);
    expect(() => parseEncryptionKey(short)).not.toThrow(short);
    expect(() => parseEncryptionKey('not a key!')).toThrow(/32 bytes/);
  });

  it('opens only under the context it was sealed for', () => {
    const cipher = new TokenCipher({ encryptionKey: keyA });
    const sealed = cipher.seal('secret', 'oauth:{a}:1');
    expect(cipher.open(sealed, 'oauth:{a}:1')).toBe('secret');
    expect(cipher.open(sealed, 'oauth:{b}:1')).toBeUndefined();
  });
});

describe('parseEncryptionKey: one rule set', () => {
  const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a));

  it('reads every accepted writing of any 32 bytes back to those bytes', () => {
    fc.assert(
      fc.property(key32, (bytes) => {
        for (const text of writings(bytes)) expect(parseEncryptionKey(text).equals(bytes)).toBe(true);
      }),
    );
  });

  it('refuses the same writings of any other length, never echoing the key', () => {
    const other = fc
      .uint8Array({ minLength: 0, maxLength: 64 })
      .filter((a) => a.length !== 32)
      .map((a) => Buffer.from(a));
    fc.assert(
      fc.property(other, (bytes) => {
        for (const text of writings(bytes)) {
          const error = (() => {
            try {
              parseEncryptionKey(text);
            } catch (e) {
              return e as Error;
            }
            throw new Error(`accepted ${bytes.length} bytes`);
          })();
          expect(error.message).toMatch(/must be 32 bytes/);
          // Shorter texts would turn up in any sentence ("ba" in "base64").
          if (text.trim().length >= 8) expect(error.message).not.toContain(text.trim());
        }
      }),
    );
  });

  it('refuses near misses: a character dropped or added, a stray character, extra padding, a non-canonical last character', () => {
    // Positions in the characters that carry the key (dropping the optional `=` leaves a valid key).
    const at = (text: string) => fc.nat({ max: text.replace(/=+$/, '').length - 1 });
    const mutation = key32.chain((bytes) =>
      fc.constantFrom(...writings(bytes).map((t) => t.trim())).chain((text) =>
        fc.oneof(
          at(text).map((i) => text.slice(0, i) + text.slice(i + 1)),
          fc.tuple(at(text), fc.constantFrom(...BASE64_ALPHABET)).map(([i, c]) => text.slice(0, i) + c + text.slice(i)),
          fc
            .tuple(at(text), fc.constantFrom(' ', '.', '!', '%', ':', '\u00e9', '\u0000'))
            .map(([i, c]) => text.slice(0, i) + c + text.slice(i + 1)),
          fc.constant(`${text}==`),
        ),
      ),
    );
    fc.assert(fc.property(mutation, (text) => expect(refused(text)).toBe(true)));
  });

  it('refuses a base64 key whose last character carries bits that 32 bytes cannot have', () => {
    fc.assert(
      fc.property(key32, fc.integer({ min: 1, max: 3 }), (bytes, low) => {
        const text = bytes.toString('base64url');
        // The 43rd character holds 4 bits of the key and 2 that must be zero (RFC 4648 §3.5).
        const last = BASE64_ALPHABET.indexOf(text.at(-1)!.replace('-', '+').replace('_', '/'));
        const nonCanonical = text.slice(0, -1) + BASE64_ALPHABET[last | low];
        expect(refused(nonCanonical)).toBe(true);
      }),
    );
  });

  it('reads a key given as bytes only when there are 32 of them', () => {
    expect(parseEncryptionKey(new Uint8Array(keyA)).equals(keyA)).toBe(true);
    expect(() => parseEncryptionKey(new Uint8Array(31))).toThrow(/31 bytes/);
  });
});
