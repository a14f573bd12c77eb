import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import type { AxiosResponse } from 'axios';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { TokenHttpClient, TokenHttpRequest, TokenHttpResponse } from '../interfaces/token-strategy.interface.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import { RESOLVED_OAUTH_OPTIONS } from '../oauth.constants.js';
import {
  needsAgents,
  pemProblem,
  readTransportPem,
  retireAgents,
  samePem,
  transportAgents,
  type TransportAgents,
  type TransportPem,
} from './transport-agents.js';

/** Token answers are small; anything larger is not a token answer. */
const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;

/** Failures of the connection a proxied request opens, which is always the one to the proxy. */
const PROXY_CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Token endpoint calls through @nestjs/axios. The answer is always returned as text with its
 * status (strategies read the provider's error bodies); only network failures, timeouts, oversized
 * answers and a refusing proxy reject, as `unavailable`. A provider's transport gets its agents on
 * its first request, and new ones when its material (functions, read at each request) reads
 * differently: the old agents finish their requests and keep no socket. Agents in use are
 * destroyed at shutdown with their sockets.
 */
@Injectable()
export class AxiosTokenHttpClient implements TokenHttpClient, OnApplicationShutdown {
  private readonly agents = new Map<string, { pem: TransportPem; agents: Promise<TransportAgents> }>();

  constructor(
    private readonly http: HttpService,
    @Inject(RESOLVED_OAUTH_OPTIONS) private readonly options: ResolvedOAuthOptions,
  ) {}

  async post(provider: string, request: TokenHttpRequest, transport?: TokenTransport): Promise<TokenHttpResponse> {
    const { requestTimeoutMs } = this.options;
    const agents = needsAgents(transport) ? await this.agentsFor(provider, transport) : undefined;
    let answer: AxiosResponse<string>;
    try {
      answer = await this.http.axiosRef.post<string>(request.url, request.body, {
        headers: request.headers,
        // axios' own timeout measures idle time only: an answer trickling in byte by byte would never
        // end, so the whole attempt, connection to last byte, runs under one deadline.
        signal: AbortSignal.timeout(requestTimeoutMs),
        responseType: 'text',
        transformResponse: [(data: string) => data],
        validateStatus: () => true,
        maxRedirects: 0,
        maxContentLength: MAX_TOKEN_RESPONSE_BYTES,
        // The proxy, if any, is the transport's: axios must not pick one from the environment.
        proxy: false,
        ...(agents && { httpAgent: agents.httpAgent, httpsAgent: agents.httpsAgent }),
      });
    } catch (error) {
      throw networkFailure(provider, error, requestTimeoutMs, agents?.proxy);
    }
    const refusedWith = agents?.proxy === undefined ? undefined : proxyRefusal(agents, answer);
    if (refusedWith !== undefined) {
      throw new OAuthProviderError({
        provider,
        kind: 'unavailable',
        code: 'proxy_refused',
        description: `proxy ${agents!.proxy} refused the request (HTTP ${refusedWith})`,
      });
    }
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(answer.headers ?? {})) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value == null ? undefined : String(value);
    }
    return { status: answer.status, headers, body: typeof answer.data === 'string' ? answer.data : '' };
  }

  async onApplicationShutdown(): Promise<void> {
    const built = await Promise.allSettled([...this.agents.values()].map((entry) => entry.agents));
    this.agents.clear();
    for (const result of built) {
      if (result.status !== 'fulfilled') continue;
      result.value.httpAgent.destroy();
      result.value.httpsAgent.destroy();
    }
  }

  private async agentsFor(provider: string, transport: TokenTransport): Promise<TransportAgents> {
    const pem = await readTransportPem(provider, transport);
    const current = this.agents.get(provider);
    if (current !== undefined && samePem(current.pem, pem)) return current.agents;
    const problem = pemProblem(pem);
    if (problem !== undefined) {
      throw new OAuthProviderError({
        provider,
        kind: 'unavailable',
        code: 'transport_unusable',
        description: `the transport material read is not usable (${problem})`,
      });
    }
    const agents = transportAgents(transport, pem);
    this.agents.set(provider, { pem, agents });
    if (current !== undefined) void current.agents.then(retireAgents, () => undefined);
    return agents;
  }
}

/**
 * The status a proxy refused with: its answer to CONNECT (replayed by the agent as if it were the
 * endpoint's), or a 407, which only a proxy ever sends (RFC 9110 §15.5.8).
 */
function proxyRefusal(agents: TransportAgents, answer: AxiosResponse<string>): number | undefined {
  const request = answer.request as object | undefined;
  const connect = request === undefined ? undefined : agents.refused.get(request);
  return connect ?? (answer.status === 407 ? 407 : undefined);
}

function networkFailure(provider: string, error: unknown, requestTimeoutMs: number, proxy: string | undefined): OAuthProviderError {
  const code = (error as { code?: string }).code;
  const timedOut = code === 'ERR_CANCELED' || code === 'ECONNABORTED' || code === 'ETIMEDOUT';
  return new OAuthProviderError({
    provider,
    kind: 'unavailable',
    code: timedOut ? 'timeout' : 'network_error',
    description: timedOut ? `no complete answer within ${requestTimeoutMs} ms` : failureDescription(error, code, proxy),
    // axios' error holds the agents, whose proxy URL carries the proxy's credentials: only its code is kept.
    cause: proxy === undefined ? error : Object.assign(new Error(code ?? 'network error'), { code }),
  });
}

function failureDescription(error: unknown, code: string | undefined, proxy: string | undefined): string {
  // axios reports an answer over maxContentLength only through its message.
  if (/maxContentLength/.test((error as Error).message ?? '')) return `answer larger than ${MAX_TOKEN_RESPONSE_BYTES} bytes`;
  if (proxy !== undefined && code !== undefined && PROXY_CONNECT_CODES.has(code)) return `proxy ${proxy} unreachable (${code})`;
  return `token endpoint unreachable (${code ?? 'network error'})${proxy === undefined ? '' : ` through proxy ${proxy}`}`;
}
