import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule, ConfigService, registerAs } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { OAuthModule } from '#oauth-providers';
import { AllProvidersKeyGuard } from './auth/all-providers-key.guard.js';
import { ApiKeys } from './auth/api-keys.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { oauthOptions, type OAuthOverrides } from './config/oauth-options.js';
import { GATEWAY_LOGGER, TokenEventsLogger } from './logging/token-events.logger.js';
import { HealthController } from './health/health.controller.js';
import { ProviderTokensHealth, READINESS_TIMEOUT_MS } from './health/provider-tokens.health.js';
import { ReadinessController } from './health/readiness.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsService } from './metrics/metrics.service.js';
import { ProblemExceptionFilter } from './problem/problem.filter.js';
import { requestIdFor } from './proxy/proxy-headers.js';
import { TokensController } from './tokens/tokens.controller.js';

export interface AppModuleOptions {
  config: GatewayConfig;
  logger: Logger;
  oauth?: OAuthOverrides;
  readinessTimeoutMs?: number;
}

/** `ConfigService.get('gateway')`: the validated configuration. */
const gatewayConfig = (config: GatewayConfig) => registerAs('gateway', () => config);

const CONTROLLERS = [HealthController, ReadinessController, TokensController, MetricsController];

/**
 * The Nest part of the gateway: configuration, logging, the OAuth library and the static routes.
 * The proxy itself is a raw Fastify route (see `proxy/proxy.plugin.ts`).
 */
@Module({})
export class AppModule {
  static forGateway({ config, logger, oauth, readinessTimeoutMs = 2000 }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // Parsed and validated before Nest starts (see parse-config.ts); here it is only served.
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, ignoreEnvVars: true, skipProcessEnv: true, load: [gatewayConfig(config)] }),
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            autoLogging: false,
            genReqId: (req) => requestIdFor(req.headers['x-request-id']),
            // Lines logged while serving a Nest route name the request by id, method and path only:
            // no headers (keys, cookies) and no query string (it may carry a secret).
            quietReqLogger: true,
            serializers: { req: (req: { id: unknown; method: string; url?: string }) => ({ id: req.id, method: req.method, path: req.url?.split('?')[0] }) },
          },
          // Only the Nest routes: the proxy writes its own access line, without per-request middleware.
          forRoutes: CONTROLLERS,
        }),
        ScheduleModule.forRoot(),
        // Failed readiness checks are answered (503, per provider), not logged: token failures are logged as they happen.
        TerminusModule.forRoot({ logger: false }),
        OAuthModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (configService: ConfigService) => oauthOptions(configService.getOrThrow<GatewayConfig>('gateway'), oauth),
        }),
      ],
      controllers: CONTROLLERS,
      providers: [
        MetricsService,
        TokenEventsLogger,
        ProviderTokensHealth,
        { provide: GATEWAY_LOGGER, useValue: logger },
        AllProvidersKeyGuard,
        { provide: ApiKeys, useValue: new ApiKeys(config.apiKeys) },
        { provide: READINESS_TIMEOUT_MS, useValue: readinessTimeoutMs },
        { provide: APP_FILTER, useClass: ProblemExceptionFilter },
      ],
    };
  }
}
