import { Logger } from '@nestjs/common';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { TokenCipher, type TokenCipherOptions } from './token-cipher.js';

/** A stored entry: the fingerprint `deleteIfEqual` compares, beside the sealed (or, without a key, clear) token. */
interface StoredValue {
  fp: string;
  sealed?: string;
  token?: AccessToken;
}

/** How a token is written to and read from its Redis entry: sealed with the configured key, or clear JSON without one. */
export class RedisTokenCodec {
  private readonly cipher: TokenCipher;
  private readonly logger = new Logger('RedisTokenStore');

  constructor(options: TokenCipherOptions) {
    this.cipher = new TokenCipher(options);
  }

  /** The fingerprints of `accessToken` under every configured key, the current one first. */
  fingerprints(accessToken: string): string[] {
    return this.cipher.fingerprints(accessToken);
  }

  encode(key: string, token: AccessToken): string {
    const value: StoredValue = {
      fp: this.cipher.fingerprints(token.accessToken)[0],
      ...(this.cipher.encrypts ? { sealed: this.cipher.seal(JSON.stringify(token), key) } : { token }),
    };
    return JSON.stringify(value);
  }

  /** An entry this store cannot read (other key, tampered, clear text while encrypting) counts as missing. */
  decode(key: string, raw: string): AccessToken | undefined {
    let value: Partial<StoredValue>;
    try {
      value = JSON.parse(raw) as Partial<StoredValue>;
    } catch {
      value = {};
    }
    let token: unknown;
    if (this.cipher.encrypts) {
      const json = typeof value.sealed === 'string' ? this.cipher.open(value.sealed, key) : undefined;
      if (json !== undefined) token = JSON.parse(json);
    } else {
      token = value.token;
    }
    if (isAccessToken(token)) return token;
    this.logger.warn(
      `${key}: unreadable entry treated as missing (${this.cipher.encrypts ? 'not sealed with a configured key' : 'encrypted, but no key is configured'})`,
    );
    return undefined;
  }
}

function isAccessToken(value: unknown): value is AccessToken {
  const t = value as Partial<AccessToken> | null | undefined;
  return (
    typeof t?.accessToken === 'string' &&
    typeof t.provider === 'string' &&
    typeof t.tokenType === 'string' &&
    typeof t.expiresAt === 'number' &&
    typeof t.obtainedAt === 'number'
  );
}
