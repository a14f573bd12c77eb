import { createHash } from 'node:crypto';
import type { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { ResolvedOAuthOptions } from '../interfaces/oauth-module-options.interface.js';
import type { TokenHttpClient, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { TokenEndpointBreaker } from './token-endpoint.breaker.js';
import { validUntil } from './token-lifetime.js';
import type { TokenServiceEvents } from './token.events.js';
import { credentialsFingerprintOf, TokenFetcher } from './token.fetcher.js';

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
  /** When the last renewal started: the next one waits for `minRequestIntervalMs` to pass. */
  renewalStartedAt?: number;
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
      { http, transport: strategy.transport },
      { retry, clock, maxTokenBytes, signal: hooks.signal, onRequest: hooks.onRequest },
    ),
    hits: 0,
    misses: 0,
  };
}

/** How long before this provider may start another renewal (0: now): one per `intervalMs` at most. */
export function renewalWaitMs(state: ProviderState, now: number, intervalMs: number): number {
  return state.renewalStartedAt === undefined ? 0 : Math.max(0, state.renewalStartedAt + intervalMs - now);
}

/**
 * The cached token if it may be handed out at `now`: valid (expiry minus skew), or not yet expired
 * while no renewal may start anyway.
 */
export function servableToken(
  state: ProviderState,
  now: number,
  options: Pick<ResolvedOAuthOptions, 'refreshSkewMs' | 'minRequestIntervalMs'>,
): AccessToken | undefined {
  const token = state.local;
  if (token === undefined || now >= token.expiresAt) return undefined;
  return now < validUntil(token, options.refreshSkewMs) || renewalWaitMs(state, now, options.minRequestIntervalMs) > 0 ? token : undefined;
}

/** Whether refusing `accessToken` leads to another token now: it was already replaced, or a renewal is under way or may start. */
export function renewsNow(state: ProviderState, accessToken: string, now: number, intervalMs: number): boolean {
  return state.local?.accessToken !== accessToken || state.inflight !== undefined || renewalWaitMs(state, now, intervalMs) === 0;
}

/**
 * The breaker's refusal at `now`, except that a rejected-credentials cool-down ends as soon as the
 * credentials differ from those refused (a secret rotated): waiting on would only delay the fix.
 */
export async function refusalUnlessRotated(state: ProviderState, now: () => number): Promise<OAuthProviderError | undefined> {
  const refused = state.breaker.cooldownFingerprint(now());
  if (refused !== undefined) {
    const current = await credentialsFingerprintOf(state.strategy);
    if (current !== undefined && current !== refused) state.breaker.endCooldown();
  }
  return state.breaker.refusal(now());
}
