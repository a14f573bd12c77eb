import { createHash } from 'node:crypto';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import type { TokenHttpClient, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { TokenEndpointBreaker } from './token-endpoint.breaker.js';
import type { TokenServiceEvents } from './token.events.js';
import { TokenFetcher } from './token.fetcher.js';

/** One provider: its strategy, what this process caches, and the parts that renew its token. */
export interface ProviderState {
  readonly strategy: TokenStrategy;
  readonly storeKey: string;
  readonly breaker: TokenEndpointBreaker;
  readonly fetcher: TokenFetcher;
  /** This process's copy; the hot path reads only this. */
  local?: AccessToken;
  headers?: { token: AccessToken; value: Readonly<Record<string, string>> };
  inflight?: Promise<AccessToken>;
  lastRefreshAt?: number;
  /** The last token invalidated (an upstream refused it): never adopted again from the store. */
  invalidated?: string;
  hits: number;
  misses: number;
}

/** A registered provider's parts, with nothing cached yet. */
export function providerState(
  strategy: TokenStrategy,
  options: ResolvedOAuthOptions,
  http: TokenHttpClient,
  hooks: { signal: AbortSignal; onRequest: (event: TokenServiceEvents['request'][0]) => void },
): ProviderState {
  const hash = createHash('sha256').update(strategy.identity).digest('hex').slice(0, 32);
  const breaker = new TokenEndpointBreaker(options);
  const { retry, clock, maxTokenBytes } = options;
  return {
    strategy,
    // `{provider}` is a Redis Cluster hash tag: one provider's keys (token, lock) share a slot.
    storeKey: `oauth:{${strategy.name}}:${hash}`,
    breaker,
    fetcher: new TokenFetcher(
      strategy,
      breaker,
      { http },
      { retry, clock, maxTokenBytes, signal: hooks.signal, onRequest: hooks.onRequest },
    ),
    hits: 0,
    misses: 0,
  };
}
