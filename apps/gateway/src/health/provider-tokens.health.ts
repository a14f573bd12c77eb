import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { TokenService, type ProviderTokenStatus } from '@oauth-gateway/oauth-providers';

/** How long `/health/ready` waits for each provider's token before calling it not ready. */
export const READINESS_TIMEOUT_MS = Symbol('READINESS_TIMEOUT_MS');

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * Terminus indicators for readiness: one per provider (up when it can produce a token now) and
 * one for the token store (degraded, not down, while Redis is unreachable: instances keep serving
 * from their local copies). Details never hold a token value.
 */
@Injectable()
export class ProviderTokensHealth {
  constructor(
    private readonly tokens: TokenService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  /** One indicator function per provider, for `HealthCheckService.check`. */
  providerChecks(): Array<() => Promise<HealthIndicatorResult>> {
    return this.tokens.providers().map((provider) => () => this.provider(provider));
  }

  /**
   * Up when the provider has a valid token or a renewal succeeds within the timeout (a slow one
   * keeps running and serves the next callers); down otherwise, with the reason.
   */
  async provider(provider: string): Promise<HealthIndicatorResult> {
    const ok = await this.canGetToken(provider);
    const session = this.indicators.check(provider);
    const s = this.tokens.status().find((p) => p.provider === provider)!;
    return ok ? session.up(details(s)) : session.down(details(s));
  }

  store(): HealthIndicatorResult {
    const session = this.indicators.check('tokenStore');
    const shared = this.tokens.status()[0]?.store.shared ?? false;
    return this.tokens.isStoreDegraded() ? session.degraded({ shared, message: 'unreachable: instances work from local copies' }) : session.up({ shared });
  }

  private canGetToken(provider: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, this.timeoutMs, false)));
    const attempt = this.tokens.getToken(provider).then(
      () => true,
      () => false,
    );
    return Promise.race([attempt, timeout]).finally(() => clearTimeout(timer));
  }
}

function details(s: ProviderTokenStatus) {
  return {
    state: s.state,
    expiresAt: iso(s.expiresAt),
    cooldownUntil: iso(s.cooldownUntil),
    circuitOpenUntil: iso(s.circuitOpenUntil),
    lastError: s.lastError && { kind: s.lastError.kind, status: s.lastError.status, description: s.lastError.description, at: iso(s.lastError.at) },
  };
}
