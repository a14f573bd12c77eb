import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { TokenService, type ProviderTokenStatus } from '@oauth-gateway/oauth-providers';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { isoTime as iso } from '../logging/iso-time.js';

/** No token yet, or one that lapsed while unused: fetched on the next request, when tokens are fetched on demand. */
const ON_DEMAND: ReadonlySet<ProviderTokenStatus['state']> = new Set(['empty', 'expired']);

/**
 * Readiness from what the token service already knows (`TokenService.status()`): a probe never
 * calls a token endpoint, so probes, however frequent and whoever sends them, cost the providers
 * nothing. Terminus indicators for the detailed view: one per provider and one for the token store
 * (degraded, not down, while Redis is unreachable: instances keep serving from their local copies).
 * Details never hold a token value.
 */
@Injectable()
export class ProviderTokensHealth {
  private readonly warmOnStart: boolean;

  constructor(
    private readonly tokens: TokenService,
    private readonly indicators: HealthIndicatorService,
    @Inject(GATEWAY_CONFIG) config: { tokens: Pick<GatewayConfig['tokens'], 'warmOnStart'> },
  ) {
    this.warmOnStart = config.tokens.warmOnStart;
  }

  /**
   * A provider is ready when it holds a valid token. Without one, it is not: its last attempt
   * failed, or callers are waiting for a renewal, or (with `TOKEN_WARM_ON_START`) start-up has not
   * fetched it yet. The exception: a gateway fetching tokens on first use is ready for a provider
   * it has not needed yet, or not lately.
   */
  isReady(s: ProviderTokenStatus): boolean {
    if (s.valid) return true;
    return !this.warmOnStart && ON_DEMAND.has(s.state) && s.lastError === undefined;
  }

  /** One indicator function per provider, for `HealthCheckService.check`. */
  providerChecks(statuses: ProviderTokenStatus[]): Array<() => HealthIndicatorResult> {
    return statuses.map((s) => () => {
      const session = this.indicators.check(s.provider);
      return this.isReady(s) ? session.up(details(s)) : session.down(details(s));
    });
  }

  store(): HealthIndicatorResult {
    const session = this.indicators.check('tokenStore');
    const { shared, degraded } = this.tokens.storeStatus();
    return degraded ? session.degraded({ shared, message: 'unreachable: instances work from local copies' }) : session.up({ shared });
  }
}

function details(s: ProviderTokenStatus) {
  return {
    state: s.state,
    expiresAt: iso(s.expiresAt),
    cooldownUntil: iso(s.cooldownUntil),
    circuitOpenUntil: iso(s.circuitOpenUntil),
    lastError: s.lastError && {
      kind: s.lastError.kind,
      status: s.lastError.status,
      description: s.lastError.description,
      at: iso(s.lastError.at),
    },
  };
}
