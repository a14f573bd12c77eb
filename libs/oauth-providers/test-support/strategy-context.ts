import { HttpService } from '@nestjs/axios';
import { OAuthProviderError } from '../src/errors/oauth-provider.error.js';
import { resolveOptions } from '../src/oauth.options.js';
import type {
  TokenHttpClient,
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRequestContext,
} from '../src/interfaces/token-strategy.interface.js';
import type { TokenTransport } from '../src/interfaces/token-transport.interface.js';
import { AxiosTokenHttpClient } from '../src/token/token-http.client.js';

/** The token HTTP client OAuthModule gives strategies (axios through @nestjs/axios), built without Nest. */
export function axiosTokenHttpClient(requestTimeoutMs = 5000): AxiosTokenHttpClient {
  return new AxiosTokenHttpClient(new HttpService(), resolveOptions({ providers: [], requestTimeoutMs }));
}

/**
 * Sends through the production client, and keeps every request exactly as the strategy built it
 * (`requests`), so a test can assert the headers the strategy chose while the emulator's records
 * show what arrived.
 */
export class RecordingTokenHttpClient implements TokenHttpClient {
  readonly requests: TokenHttpRequest[] = [];

  constructor(private readonly inner: TokenHttpClient) {}

  post(provider: string, request: TokenHttpRequest, transport?: TokenTransport): Promise<TokenHttpResponse> {
    this.requests.push(request);
    return this.inner.post(provider, request, transport);
  }
}

/** What a strategy receives from the service, on the production HTTP client. */
export function strategyContext(requestTimeoutMs?: number): TokenRequestContext & { http: RecordingTokenHttpClient } {
  return { http: new RecordingTokenHttpClient(axiosTokenHttpClient(requestTimeoutMs)) };
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
  return Buffer.from(match[1], 'base64').toString('utf8');
}
