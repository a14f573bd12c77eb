import type { Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Logger } from 'pino';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { ApiKeys } from '../auth/api-keys.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import { ShutdownState } from '../health/shutdown-state.js';
import { AccessLog } from '../logging/access-log.js';
import { GATEWAY_LOGGER } from '../logging/token-events.logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RateLimiter } from '../ratelimit/rate-limiter.interface.js';
import type { CallerTerms } from './caller-answer.js';
import { DeadlineSweeper, sweepPeriodFor } from './deadline-sweeper.js';
import { GatewayServer } from './gateway-server.js';
import { ProxyHandler } from './proxy.handler.js';
import { CONNECTIONS_PER_POOL, Upstreams } from './upstreams.js';

export const CALLER_TERMS = Symbol('CALLER_TERMS');

const gatewayConfig = (configService: ConfigService) => configService.getOrThrow<GatewayConfig>('gateway');

/**
 * The proxy's objects as Nest providers, so that Nest's lifecycle opens and closes them; the
 * server and the access log are made before Nest starts (Fastify needs the server up front) and
 * handed in as values.
 */
export function proxyProviders(server: GatewayServer, accessLog: AccessLog, upstreamConnections = CONNECTIONS_PER_POOL): Provider[] {
  return [
    { provide: GatewayServer, useValue: server },
    { provide: AccessLog, useValue: accessLog },
    ShutdownState,
    {
      provide: DeadlineSweeper,
      inject: [ConfigService, GATEWAY_LOGGER],
      useFactory: (configService: ConfigService, logger: Logger) => {
        const { clientTimeoutMs, uploadTimeoutMs } = gatewayConfig(configService);
        return new DeadlineSweeper(sweepPeriodFor(clientTimeoutMs, uploadTimeoutMs), (error) =>
          logger.error({ err: error }, 'caller deadline check failed'),
        );
      },
    },
    {
      provide: CALLER_TERMS,
      inject: [DeadlineSweeper, ShutdownState, ConfigService],
      useFactory: (sweeper: DeadlineSweeper, state: ShutdownState, configService: ConfigService): CallerTerms => ({
        sweeper,
        clientTimeoutMs: gatewayConfig(configService).clientTimeoutMs,
        draining: () => state.draining,
      }),
    },
    {
      provide: Upstreams,
      inject: [ConfigService],
      useFactory: (configService: ConfigService) => new Upstreams(gatewayConfig(configService), upstreamConnections),
    },
    {
      provide: ProxyHandler,
      inject: [
        ConfigService,
        TokenService,
        ApiKeys,
        RateLimiter,
        Upstreams,
        MetricsService,
        GATEWAY_LOGGER,
        AccessLog,
        CALLER_TERMS,
        GatewayServer,
      ],
      useFactory: (
        configService: ConfigService,
        tokens: TokenService,
        apiKeys: ApiKeys,
        rateLimiter: RateLimiter,
        upstreams: Upstreams,
        metrics: MetricsService,
        logger: Logger,
        log: AccessLog,
        terms: CallerTerms,
        gatewayServer: GatewayServer,
      ) =>
        new ProxyHandler(
          { config: gatewayConfig(configService), tokens, apiKeys, rateLimiter, upstreams, metrics, logger, accessLog: log, terms },
          gatewayServer,
        ),
    },
  ];
}
