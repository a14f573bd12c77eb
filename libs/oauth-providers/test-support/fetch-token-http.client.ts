import { OAuthProviderError } from '../src/errors/oauth-provider.error.js';
import type { TokenHttpClient, TokenHttpRequest, TokenHttpResponse, TokenRequestContext } from '../src/interfaces/token-strategy.interface.js';

/**
 * A real HTTP `TokenHttpClient` on global fetch, for testing strategies against the emulators
 * without Nest. It keeps every request exactly as the strategy built it (`requests`), so a test
 * can assert the headers the strategy chose, while the emulator's records show what arrived.
 */
export class FetchTokenHttpClient implements TokenHttpClient {
  readonly requests: TokenHttpRequest[] = [];

  constructor(private readonly timeoutMs = 5000) {}

  async post(provider: string, request: TokenHttpRequest): Promise<TokenHttpResponse> {
    this.requests.push(request);
    try {
      const res = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => (headers[name] = value));
      return { status: res.status, headers, body: await res.text() };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new OAuthProviderError({
        provider,
        kind: 'unavailable',
        code: timedOut ? 'timeout' : 'network_error',
        description: timedOut ? `no answer within ${this.timeoutMs} ms` : 'token endpoint unreachable',
        cause: error,
      });
    }
  }
}

export function fetchContext(timeoutMs?: number): TokenRequestContext & { http: FetchTokenHttpClient } {
  return { http: new FetchTokenHttpClient(timeoutMs) };
}

/** The rejection of `promise`, which must be an `OAuthProviderError`. */
export async function providerErrorOf(promise: Promise<unknown>): Promise<OAuthProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OAuthProviderError) return error;
    throw new Error(`expected an OAuthProviderError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection, got a token');
}

/** `Basic base64(x)` → `x`, to check what a strategy really put in the header. */
export function decodeBasic(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^Basic (.+)$/.exec(value ?? '');
  if (!match) throw new Error(`not a Basic header: ${value}`);
  return Buffer.from(match[1]!, 'base64').toString('utf8');
}
