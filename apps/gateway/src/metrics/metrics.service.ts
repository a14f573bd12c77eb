import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TokenService } from '#oauth-providers';

type ProxyLabel = 'provider' | 'method' | 'status_class';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The gateway's Prometheus registry. One registry per app (not prom-client's global one), so
 * several gateways in one process (tests) do not collide. Add metrics here, next to their
 * recording methods.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private readonly proxied = new Counter({
    name: 'gateway_proxied_requests_total',
    help: 'Requests handled by the proxy route, by provider, method and status class',
    labelNames: ['provider', 'method', 'status_class'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'gateway_proxied_request_duration_seconds',
    help: 'Time from receiving a proxied request to the end of its answer',
    labelNames: ['provider', 'method', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly tokenRequests = new Counter({
    name: 'gateway_token_requests_total',
    help: 'Calls to token endpoints, by provider and outcome',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });
  /** Label children cached per combination: the hot path skips prom-client's label hashing. */
  private readonly children = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<ProxyLabel> }>();
  private readonly onTokenRequest = ({ provider, outcome }: { provider: string; outcome: string }) =>
    this.tokenRequests.inc({ provider, outcome });

  constructor(private readonly tokens: TokenService) {
    collectDefaultMetrics({ register: this.registry });
  }

  onModuleInit(): void {
    this.tokens.events.on('request', this.onTokenRequest);
  }

  onModuleDestroy(): void {
    this.tokens.events.off('request', this.onTokenRequest);
  }

  /** One proxied request; `provider` is `-` when the request never got as far as a provider. */
  recordProxied(provider: string, method: string, status: number, seconds: number): void {
    const m = KNOWN_METHODS.has(method) ? method : 'OTHER';
    const statusClass = `${Math.floor(status / 100)}xx`;
    const key = `${provider} ${m} ${statusClass}`;
    let child = this.children.get(key);
    if (!child) {
      const labels = { provider, method: m, status_class: statusClass };
      child = { count: this.proxied.labels(labels), duration: this.duration.labels(labels) };
      this.children.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }

  contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
