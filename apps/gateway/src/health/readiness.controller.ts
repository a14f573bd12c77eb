import { Controller, Get, HttpStatus, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenService, type ProviderTokenStatus } from '@oauth-gateway/oauth-providers';
import { ApiKeys } from '../auth/api-keys.js';
import { tokenStatusView } from '../tokens/token-status.view.js';
import { ProviderTokensHealth } from './provider-tokens.health.js';
import { DRAINING_CHECK, ProcessHealth } from './process.health.js';

@Controller('health')
export class ReadinessController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: ProviderTokensHealth,
    private readonly tokens: TokenService,
    private readonly apiKeys: ApiKeys,
    private readonly process: ProcessHealth,
  ) {}

  /**
   * Readiness, decided by Terminus from the indicators: 200 when every enabled provider can hand
   * out a token now, else 503, read from the token service's status (no token endpoint is called).
   * Without a key allowed `*`, only `status` and each provider's `state`: probes need no more, and
   * error texts are for operators. With one, the detail: `providers` as `/tokens` shows them and
   * Terminus' per-check details under `checks` (a degraded token store does not fail readiness).
   * From the first SIGTERM it is 503 with `draining: true` (a check of its own, shown at the top
   * level), so that a load balancer stops sending while in-flight requests finish.
   */
  @Get('ready')
  async ready(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const statuses = this.tokens.status();
    const { ready, code, result } = await this.check(statuses);
    reply.code(code);
    const status = ready ? 'ok' : 'unavailable';
    const { [DRAINING_CHECK]: drain, ...checks } = result.details;
    const draining = drain?.status === 'down' || undefined;
    if (!this.apiKeys.authenticate(request.headers['x-api-key'])?.allowsAll) {
      return { status, draining, providers: statuses.map(({ provider, state }) => ({ provider, state })) };
    }
    return { status, draining, providers: statuses.map(tokenStatusView), checks };
  }

  /** Terminus decides: its result when every check is up or degraded, else its 503 exception, which carries the result. */
  private async check(statuses: ProviderTokenStatus[]): Promise<{ ready: boolean; code: number; result: HealthCheckResult }> {
    const checks = [() => this.process.draining(), ...this.indicators.providerChecks(statuses), () => this.indicators.store()];
    try {
      return { ready: true, code: HttpStatus.OK, result: await this.health.check(checks) };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      return { ready: false, code: error.getStatus(), result: error.getResponse() as HealthCheckResult };
    }
  }
}
