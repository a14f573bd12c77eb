import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { OAuthModule } from '@oauth-gateway/oauth-providers';
import { AllProvidersKeyGuard } from './auth/all-providers-key.guard.js';
import { ApiKeys } from './auth/api-keys.js';
import { ApiKeysReloader, KEYS_REPLACED, type KeysReplaced } from './auth/api-keys.reloader.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config.js';
import { oauthOptions, type OAuthOverrides } from './config/oauth-options.js';
import { RuntimeSecrets, startupSecrets } from './config/runtime-secrets.js';
import { GATEWAY_LOGGER } from './logging/gateway-logger.js';
import { TokenEventsLogger } from './logging/token-events.logger.js';
import { HealthController } from './health/health.controller.js';
import { ProcessHealth } from './health/process.health.js';
import { ProviderTokensHealth } from './health/provider-tokens.health.js';
import { ReadinessController } from './health/readiness.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { CallerMetrics } from './metrics/caller.metrics.js';
import { ClientCertificateMetrics } from './metrics/client-certificate.metrics.js';
import { MetricsService } from './metrics/metrics.service.js';
import { TokenEventMetrics } from './metrics/token-events.metrics.js';
import { TokenStateMetrics } from './metrics/token-state.metrics.js';
import { RedisMetrics } from './metrics/redis.metrics.js';
import { SecretMetrics } from './metrics/secret.metrics.js';
import { SecretFileWatcher } from './config/secret-file.watcher.js';
import { TlsRotation } from './config/tls-rotation.js';
import type { AccessLog } from './logging/access-log.js';
import { proxyProviders } from './proxy/proxy.providers.js';
import { ProblemExceptionFilter } from './problem/problem.filter.js';
import { InMemoryRateLimiter } from './ratelimit/in-memory.rate-limiter.js';
import { RateLimiter } from './ratelimit/rate-limiter.interface.js';
import { RedisRateLimiter } from './ratelimit/redis.rate-limiter.js';
import { ShutdownState } from './shutdown/shutdown-state.js';
import { TokensController } from './tokens/tokens.controller.js';
import { TracingMetrics } from './metrics/tracing.metrics.js';
import { GATEWAY_TRACING, type ProxyTracing } from './tracing/tracing.js';

export interface AppModuleOptions {
  config: GatewayConfig;
  logger: Logger;
  oauth?: OAuthOverrides;
  /** The gateway's Redis connection (tokens and rate limits), owned and closed by the gateway. */
  redis?: Redis | Cluster;
  accessLog: AccessLog;
  /** Connections per upstream pool. */
  upstreamConnections?: number;
  /** OpenTelemetry, started before Nest when configured. */
  tracing?: ProxyTracing;
}

/**
 * The gateway: configuration, the OAuth library, the operator routes and the proxy's objects. The
 * proxy works on Node's raw requests, ahead of Fastify (see `proxy/gateway-server.ts`). Nest logs
 * through the root pino logger (`logging/nest-logger.ts`): no per-request logging middleware.
 */
@Module({})
export class AppModule {
  static forGateway({ config, logger, oauth, redis, accessLog, upstreamConnections, tracing }: AppModuleOptions): DynamicModule {
    // Secrets as read at start-up, then as the watcher of their files reads them again: token requests read them when they are made.
    // TLS material changes as a whole, once checked: the token client and the upstream pools both read it from `tls`.
    const tls = new TlsRotation(config.providers, config.secretFiles, { logger });
    const secrets = startupSecrets(config.providers, tls);
    return {
      module: AppModule,
      imports: [
        ScheduleModule.forRoot(),
        // Failed readiness checks are answered (503, per provider), not logged: token failures are logged as they happen.
        TerminusModule.forRoot({ logger: false }),
        OAuthModule.forRootAsync({
          isGlobal: true,
          useFactory: () => oauthOptions(config, secrets, oauth, redis),
        }),
      ],
      controllers: [HealthController, ReadinessController, TokensController, MetricsController],
      providers: [
        MetricsService,
        TokenEventMetrics,
        TokenStateMetrics,
        TokenEventsLogger,
        ProviderTokensHealth,
        ProcessHealth,
        // Parsed and validated before Nest starts (see parse-config.ts); here it is only served.
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: RuntimeSecrets, useValue: secrets },
        { provide: TlsRotation, useValue: tls },
        { provide: GATEWAY_LOGGER, useValue: logger },
        AllProvidersKeyGuard,
        { provide: ApiKeys, useValue: new ApiKeys(config.apiKeys) },
        ApiKeysReloader,
        { provide: RateLimiter, useValue: redis ? new RedisRateLimiter(redis, new InMemoryRateLimiter()) : new InMemoryRateLimiter() },
        {
          provide: KEYS_REPLACED,
          inject: [RateLimiter],
          useFactory:
            (limiter: RateLimiter): KeysReplaced =>
            () =>
              limiter.prune(),
        },
        CallerMetrics,
        RedisMetrics,
        SecretMetrics,
        ...(config.secretFiles.length === 0
          ? []
          : [
              {
                provide: SecretFileWatcher,
                inject: [GATEWAY_LOGGER],
                useFactory: async (gatewayLogger: Logger) => {
                  const watcher = new SecretFileWatcher(config.secretFiles, {
                    logger: gatewayLogger,
                    changed: (provider, field) => tls.changed(provider, field),
                  });
                  tls.follow(watcher);
                  await watcher.start();
                  secrets.follow(watcher);
                  return watcher;
                },
              },
            ]),
        {
          provide: ClientCertificateMetrics,
          inject: [MetricsService],
          useFactory: (metrics: MetricsService) => new ClientCertificateMetrics(metrics, config.providers, Date.now, tls),
        },
        { provide: GATEWAY_TRACING, useValue: tracing ?? null },
        TracingMetrics,
        { provide: APP_FILTER, useClass: ProblemExceptionFilter },
        ShutdownState,
        ...proxyProviders(accessLog, upstreamConnections),
      ],
    };
  }
}
