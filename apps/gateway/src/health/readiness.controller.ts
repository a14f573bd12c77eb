import { Controller, Get, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { ApiKeys } from '../auth/api-keys.js';
import { tokenStatusView } from '../tokens/token-status.view.js';
import { ProviderTokensHealth } from './provider-tokens.health.js';
import { ShutdownState } from '../shutdown/shutdown-state.js';

@Controller('health')
export class ReadinessController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: ProviderTokensHealth,
    private readonly tokens: TokenService,
    private readonly apiKeys: ApiKeys,
    private readonly shutdown: ShutdownState,
  ) {}

  /**
   * Readiness: 200 when every enabled provider can hand out a token now, else 503, read from the
   * token service's status (no token endpoint is called). Without a key allowed `*`, only `status`
   * and each provider's `state`: probes need no more, and error texts are for operators. With one,
   * the detail: `providers` as `/tokens` shows them and Terminus' per-check details under
   * `checks` (a degraded token store does not fail readiness). From the first SIGTERM it is 503
   * with `draining: true`, so that a load balancer stops sending while in-flight requests finish.
   */
  @Get('ready')
  async ready(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const statuses = this.tokens.status();
    const draining = this.shutdown.draining || undefined;
    const ready = !draining && statuses.every((s) => this.indicators.isReady(s));
    reply.code(ready ? 200 : 503);
    const status = ready ? 'ok' : 'unavailable';
    if (!this.apiKeys.authenticate(request.headers['x-api-key'])?.allowsAll) {
      return { status, draining, providers: statuses.map(({ provider, state }) => ({ provider, state })) };
    }
    let result: HealthCheckResult;
    try {
      result = await this.health.check([...this.indicators.providerChecks(statuses), () => this.indicators.store()]);
    } catch (error) {
      // Terminus reports a failed check as a 503 exception carrying the result.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      result = error.getResponse() as HealthCheckResult;
    }
    return { status, draining, providers: statuses.map(tokenStatusView), checks: result.details };
  }
}
