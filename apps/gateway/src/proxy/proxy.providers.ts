import type { Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import { TokenService } from '@oauth-gateway/oauth-providers';
import { ApiKeys } from '../auth/api-keys.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config.js';
import { TlsRotation } from '../config/tls-rotation.js';
import { AccessLog } from '../logging/access-log.js';
import { GATEWAY_LOGGER } from '../logging/gateway-logger.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { RateLimiter } from '../ratelimit/rate-limiter.interface.js';
import { ShutdownState } from '../shutdown/shutdown-state.js';
import { GATEWAY_TRACING, type ProxyTracing } from '../tracing/tracing.js';
import { Admission } from './admission.js';
import { DeadlineSweeper, sweepPeriodFor } from './deadline-sweeper.js';
import { ForwardedFor } from './forwarded-for.js';
import type { ProxyContext } from './proxy-context.js';
import { ProxyLog } from './proxy-log.js';
import { ProxyTokens } from './proxy-tokens.js';
import { ProxyHandler } from './proxy.handler.js';
import { CONNECTIONS_PER_POOL, Upstreams } from './upstreams.js';

/**
 * The proxy's objects as Nest providers, so that Nest's lifecycle opens and closes them (the
 * sweeper's interval, the upstream pools), and the one `ProxyContext` every request is handed,
 * built here once. The access log is made before Nest starts and handed in as a value.
 */
export function proxyProviders(accessLog: AccessLog, upstreamConnections = CONNECTIONS_PER_POOL): Provider[] {
  return [
    { provide: AccessLog, useValue: accessLog },
    {
      provide: DeadlineSweeper,
      inject: [GATEWAY_CONFIG, GATEWAY_LOGGER],
      useFactory: ({ clientTimeoutMs, uploadTimeoutMs, upstreamTimeoutMs }: GatewayConfig, logger: Logger) => {
        return new DeadlineSweeper(sweepPeriodFor(clientTimeoutMs, uploadTimeoutMs, upstreamTimeoutMs), (error) =>
          logger.error({ err: error }, 'caller deadline check failed'),
        );
      },
    },
    {
      provide: Upstreams,
      inject: [GATEWAY_CONFIG, TlsRotation],
      useFactory: (config: GatewayConfig, tls: TlsRotation) => new Upstreams(config, upstreamConnections, tls),
    },
    {
      provide: ProxyHandler,
      inject: [
        GATEWAY_CONFIG,
        TokenService,
        ApiKeys,
        RateLimiter,
        Upstreams,
        DeadlineSweeper,
        ShutdownState,
        MetricsService,
        AccessLog,
        GATEWAY_LOGGER,
        GATEWAY_TRACING,
      ],
      useFactory: (
        config: GatewayConfig,
        tokens: TokenService,
        apiKeys: ApiKeys,
        rateLimiter: RateLimiter,
        upstreams: Upstreams,
        sweeper: DeadlineSweeper,
        shutdown: ShutdownState,
        metrics: MetricsService,
        log: AccessLog,
        logger: Logger,
        tracing: ProxyTracing | null,
      ) => {
        const forwardedFor = new ForwardedFor(config.trustedProxies);
        const context: ProxyContext = {
          admission: new Admission(config, apiKeys, upstreams, forwardedFor, sweeper, rateLimiter, metrics),
          tokens: new ProxyTokens(tokens),
          terms: { sweeper, clientTimeoutMs: config.clientTimeoutMs, shutdown },
          uploadTimeoutMs: config.uploadTimeoutMs,
          upstreamTimeoutMs: config.upstreamTimeoutMs,
          log: new ProxyLog(log, metrics, forwardedFor),
          tracing: tracing ?? undefined,
          logger,
        };
        return new ProxyHandler(context);
      },
    },
  ];
}
