import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { tokenStatusView } from '../tokens/token-status.view.js';
import { ProviderTokensHealth } from './provider-tokens.health.js';

export { READINESS_TIMEOUT_MS } from './provider-tokens.health.js';

@Controller('health')
export class ReadinessController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: ProviderTokensHealth,
    private readonly tokens: TokenService,
  ) {}

  /**
   * Readiness: 200 when every enabled provider can produce a token now, else 503. The body keeps
   * the gateway's shape (`status` ok / unavailable, `providers` as `/tokens` shows them) plus
   * Terminus' per-check details under `checks` (a degraded token store does not fail readiness).
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([...this.indicators.providerChecks(), () => this.indicators.store()]);
    } catch (error) {
      // Terminus reports a failed check as a 503 exception carrying the result.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      result = error.getResponse() as HealthCheckResult;
    }
    const ready = result.status === 'ok' || result.status === 'degraded';
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ok' : 'unavailable', providers: this.tokens.status().map(tokenStatusView), checks: result.details };
  }
}
