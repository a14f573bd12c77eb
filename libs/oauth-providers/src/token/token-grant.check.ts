import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { TokenGrant } from '../interfaces/access-token.interface.js';

/**
 * Visible ASCII only (0x21–0x7E): a token travels in a header value, and CR, LF, NUL or a wider
 * character would be refused by the HTTP client (or split the header) on every call for its whole life.
 */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * The grant a strategy returned, if its `access_token` (and `token_type`, when given) can be sent as
 * it is: else `invalid_response`, naming the field and never its value.
 */
export function checkedGrant(provider: string, grant: TokenGrant | undefined, maxTokenBytes: number): TokenGrant {
  if (!grant || typeof grant.accessToken !== 'string' || grant.accessToken.length === 0)
    throw invalid(provider, 'the answer holds no access_token');
  checkField(provider, 'access_token', grant.accessToken, maxTokenBytes);
  if (grant.tokenType !== undefined) {
    if (typeof grant.tokenType !== 'string') throw invalid(provider, 'the answer holds a token_type that is not a string');
    checkField(provider, 'token_type', grant.tokenType, maxTokenBytes);
  }
  return grant;
}

function checkField(provider: string, field: string, value: string, maxBytes: number): void {
  // Visible ASCII is one byte a character, so the length is the size in bytes.
  if (value.length > maxBytes) throw invalid(provider, `the answer's ${field} is longer than ${maxBytes} bytes`);
  if (!VISIBLE_ASCII.test(value)) throw invalid(provider, `the answer's ${field} is empty or holds characters other than visible ASCII`);
}

function invalid(provider: string, description: string): OAuthProviderError {
  return new OAuthProviderError({ provider, kind: 'invalid_response', description });
}
