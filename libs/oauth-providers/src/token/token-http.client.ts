import { Inject, Injectable } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { TokenHttpClient, TokenHttpRequest, TokenHttpResponse } from '../interfaces/token-strategy.interface.js';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import { RESOLVED_OAUTH_OPTIONS } from '../oauth.constants.js';

/** Token answers are small; anything larger is not a token answer. */
const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;

/**
 * Token endpoint calls through @nestjs/axios. The answer is always returned as text with its
 * status (strategies read the provider's error bodies); only network failures, timeouts and
 * oversized answers reject, as `unavailable`.
 */
@Injectable()
export class AxiosTokenHttpClient implements TokenHttpClient {
  constructor(
    private readonly http: HttpService,
    @Inject(RESOLVED_OAUTH_OPTIONS) private readonly options: ResolvedOAuthOptions,
  ) {}

  async post(provider: string, request: TokenHttpRequest): Promise<TokenHttpResponse> {
    const { requestTimeoutMs } = this.options;
    try {
      const res = await this.http.axiosRef.post<string>(request.url, request.body, {
        headers: request.headers,
        // axios' own timeout measures idle time only: an answer trickling in byte by byte would never
        // end, so the whole attempt, connection to last byte, runs under one deadline.
        signal: AbortSignal.timeout(requestTimeoutMs),
        responseType: 'text',
        transformResponse: [(data: string) => data],
        validateStatus: () => true,
        maxRedirects: 0,
        maxContentLength: MAX_TOKEN_RESPONSE_BYTES,
        // Proxies from the environment are not for token calls to loopback emulators or partners.
        proxy: false,
      });
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.headers ?? {})) {
        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value == null ? undefined : String(value);
      }
      return { status: res.status, headers, body: typeof res.data === 'string' ? res.data : '' };
    } catch (error) {
      const code = (error as { code?: string }).code;
      const timedOut = code === 'ERR_CANCELED' || code === 'ECONNABORTED' || code === 'ETIMEDOUT';
      throw new OAuthProviderError({
        provider,
        kind: 'unavailable',
        code: timedOut ? 'timeout' : 'network_error',
        description: timedOut ? `no complete answer within ${requestTimeoutMs} ms` : failureDescription(error, code),
        cause: error,
      });
    }
  }
}

function failureDescription(error: unknown, code: string | undefined): string {
  // axios reports an answer over maxContentLength only through its message.
  if (/maxContentLength/.test((error as Error).message ?? '')) return `answer larger than ${MAX_TOKEN_RESPONSE_BYTES} bytes`;
  return `token endpoint unreachable (${code ?? 'network error'})`;
}
