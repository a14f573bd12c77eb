import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { GATEWAY_TRACING, type ProxyTracing } from '../tracing/tracing.js';
import { MetricsService } from './metrics.service.js';

/** Spans the gateway made but could not export (queue full, exporter down), read at scrape time; 0 with tracing off. */
@Injectable()
export class TracingMetrics {
  constructor(metrics: MetricsService, @Inject(GATEWAY_TRACING) tracing: ProxyTracing | null) {
    new Counter({
      name: 'gateway_trace_spans_dropped_total',
      help: 'Spans ended but never exported: the export queue was full or the OTLP receiver failed (requests never wait on it)',
      registers: [metrics.registry],
      collect() {
        this.reset();
        this.inc(tracing?.dropped() ?? 0);
      },
    });
  }
}
