import { Injectable } from '@nestjs/common';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { PROXIED_METHODS } from '../http/proxied-methods.js';
import { ProxyHistogram, type HistogramSeries } from './proxy-histogram.js';

type ProxyLabel = 'provider' | 'method' | 'status_class';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** The gateway's own share is usually well under a millisecond: finer buckets at the low end. */
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The series of one label set of the proxy's metrics. */
interface ProxySeries {
  labels: Record<ProxyLabel, string>;
  duration: HistogramSeries;
  upstream: HistogramSeries;
  overhead: HistogramSeries;
}

/**
 * The gateway's Prometheus registry, and what the proxy counts. One registry per app (not
 * prom-client's global one), so several gateways in one process (tests) do not collide; the token
 * metrics (`token-events.metrics.ts`, `token-state.metrics.ts`) and the callers' gauges register in it.
 *
 * Costs: on the proxy's path, one Map lookup and three histogram observations on cached series
 * (`ProxyHistogram`; the request counter is read from the duration histogram's counts at scrape time).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly registers = [this.registry];

  // --- proxy ---------------------------------------------------------------------------------
  /** Label children cached per combination: the hot path touches no label handling. */
  private readonly proxySeries = new Map<string, ProxySeries>();
  private readonly duration = new ProxyHistogram<ProxyLabel>(
    'gateway_proxied_request_duration_seconds',
    'Time from receiving a proxied request to the end of its answer',
    DURATION_BUCKETS,
  );
  private readonly upstreamDuration = new ProxyHistogram<ProxyLabel>(
    'gateway_proxied_upstream_duration_seconds',
    "Part of a proxied request's time spent on the provider's API: from sending the request to the end of its answer (both calls when a 401 is replayed)",
    DURATION_BUCKETS,
  );
  private readonly overheadDuration = new ProxyHistogram<ProxyLabel>(
    'gateway_proxied_overhead_duration_seconds',
    "Part of a proxied request's time spent in the gateway (authentication, path checks, waiting for a token, headers): total minus upstream",
    OVERHEAD_BUCKETS,
  );
  private readonly rateLimited = new Counter({
    name: 'gateway_rate_limited_total',
    help: "Requests refused with 429 because the caller's key was over its rate limit, by provider",
    labelNames: ['provider'] as const,
    registers: this.registers,
  });
  private readonly replays = new Counter({
    name: 'gateway_upstream_401_replays_total',
    help: 'Requests replayed once with a renewed token after the provider answered 401',
    labelNames: ['provider'] as const,
    registers: this.registers,
  });
  /** Tells the gateway's own 502/503/504 apart from the provider's 5xx, which share `status_class` in the request count. */
  private readonly proxyErrors = new Counter({
    name: 'gateway_proxy_errors_total',
    help: "Proxied requests the gateway answered itself with a problem (its own 4xx/5xx, not the provider's), by provider, problem code and status",
    labelNames: ['provider', 'code', 'status'] as const,
    registers: this.registers,
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named `*_total` break Prometheus' naming rule (promtool check metrics refuses them);
    // the same counts stay exported as nodejs_active_handles, _requests and _resources.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      this.registry.removeSingleMetric(name);
    const registers = this.registers;
    const proxySeries = this.proxySeries;

    // --- proxy: the request count is the duration histogram's, read at scrape time --------------
    new Counter({
      name: 'gateway_proxied_requests_total',
      help: 'Requests handled by the proxy route, by provider, method and status class',
      labelNames: ['provider', 'method', 'status_class'] as const,
      registers,
      collect() {
        this.reset();
        for (const { labels, duration } of proxySeries.values()) this.inc(labels, duration.count);
      },
    });
  }

  private readonly replayChildren = new Map<string, Counter.Internal>();
  private readonly rateLimitedChildren = new Map<string, Counter.Internal>();
  private readonly proxyErrorChildren = new Map<string, Counter.Internal>();

  /**
   * One proxied request; `provider` is `-` when the request never got as far as a provider.
   * `upstreamSeconds`: time spent on the provider's API, when it was called at all; the rest of
   * `seconds` is the gateway's overhead.
   */
  recordProxied(provider: string, method: string, status: number, seconds: number, upstreamSeconds?: number): void {
    const m = PROXIED_METHODS.has(method) ? method : 'OTHER';
    const statusClass = `${Math.floor(status / 100)}xx`;
    const key = `${provider} ${m} ${statusClass}`;
    let series = this.proxySeries.get(key);
    if (!series) {
      const labels = { provider, method: m, status_class: statusClass };
      series = {
        labels,
        duration: this.duration.seriesFor(labels),
        upstream: this.upstreamDuration.seriesFor(labels),
        overhead: this.overheadDuration.seriesFor(labels),
      };
      this.proxySeries.set(key, series);
    }
    series.duration.observe(seconds);
    if (upstreamSeconds === undefined) {
      series.overhead.observe(seconds);
    } else {
      series.upstream.observe(upstreamSeconds);
      series.overhead.observe(Math.max(0, seconds - upstreamSeconds));
    }
  }

  /** The provider answered 401 and the request was replayed with a renewed token. */
  recordReplay(provider: string): void {
    childOf(this.replays, this.replayChildren, provider).inc();
  }

  /** A request refused with 429: its key was over its rate limit. */
  recordRateLimited(provider: string): void {
    childOf(this.rateLimited, this.rateLimitedChildren, provider).inc();
  }

  /** The proxy answered with its own problem (`provider` is `-` when the request never got as far as a provider). */
  recordProxyError(provider: string, code: string, status: number): void {
    const key = `${provider} ${code} ${status}`;
    let child = this.proxyErrorChildren.get(key);
    if (!child) {
      child = this.proxyErrors.labels({ provider, code, status: String(status) });
      this.proxyErrorChildren.set(key, child);
    }
    child.inc();
  }

  contentType(): string {
    return this.registry.contentType;
  }

  /** prom-client's registry, then the proxy's histograms in the same format. */
  async render(): Promise<string> {
    const proxy = [this.duration, this.upstreamDuration, this.overheadDuration].map((h) => h.render()).join('\n\n');
    return `${await this.registry.metrics()}\n${proxy}\n`;
  }
}

/** A counter's child for one provider, cached: the request path touches no label handling. */
function childOf(counter: Counter<'provider'>, children: Map<string, Counter.Internal>, provider: string): Counter.Internal {
  let child = children.get(provider);
  if (!child) {
    child = counter.labels({ provider });
    children.set(provider, child);
  }
  return child;
}
