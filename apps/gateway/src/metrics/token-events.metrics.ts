import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { TokenService, type TokenFailedEvent, type TokenObtainedEvent, type TokenRequestEvent } from '@oauth-gateway/oauth-providers';
import { MetricsService } from './metrics.service.js';

/**
 * Token events, counted as they happen: calls to token endpoints and renewals, with their outcome.
 * They are rare next to proxied requests, so prom-client's label handling costs nothing here.
 */
@Injectable()
export class TokenEventMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly tokenRequests: Counter<'provider' | 'outcome'>;
  private readonly tokenRequestDuration: Histogram<'provider' | 'outcome'>;
  private readonly renewals: Counter<'provider' | 'trigger' | 'result'>;

  constructor(
    metrics: MetricsService,
    private readonly tokens: TokenService,
  ) {
    const registers = [metrics.registry];
    this.tokenRequests = new Counter({
      name: 'gateway_token_requests_total',
      help: 'Calls to token endpoints, by provider and outcome (each retry is a call)',
      labelNames: ['provider', 'outcome'] as const,
      registers,
    });
    this.tokenRequestDuration = new Histogram({
      name: 'gateway_token_request_duration_seconds',
      help: 'Duration of one call to a token endpoint, by provider and outcome',
      labelNames: ['provider', 'outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.renewals = new Counter({
      name: 'gateway_token_renewals_total',
      help: 'Token renewals (retries included in one renewal), by provider, trigger (background refresher or request path) and result',
      labelNames: ['provider', 'trigger', 'result'] as const,
      registers,
    });
  }

  private readonly onTokenRequest = ({ provider, outcome, durationMs }: TokenRequestEvent) => {
    this.tokenRequests.inc({ provider, outcome });
    this.tokenRequestDuration.observe({ provider, outcome }, durationMs / 1000);
  };
  private readonly onObtained = ({ provider, background }: TokenObtainedEvent) =>
    this.renewals.inc({ provider, trigger: background ? 'background' : 'request', result: 'success' });
  private readonly onFailed = ({ provider, background }: TokenFailedEvent) =>
    this.renewals.inc({ provider, trigger: background ? 'background' : 'request', result: 'failure' });

  onModuleInit(): void {
    this.tokens.events.on('request', this.onTokenRequest);
    this.tokens.events.on('obtained', this.onObtained);
    this.tokens.events.on('failed', this.onFailed);
  }

  onModuleDestroy(): void {
    this.tokens.events.off('request', this.onTokenRequest);
    this.tokens.events.off('obtained', this.onObtained);
    this.tokens.events.off('failed', this.onFailed);
  }
}
