import type { IncomingMessage } from 'node:http';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/tracing-config.js';
import type { CallTrace, ProxyTracing, TracedCall } from './tracing.js';

/** Spans held for export at most; past it they are dropped and counted, never waited on. */
const MAX_QUEUED_SPANS = 2048;
const EXPORT_TIMEOUT_MS = 10_000;
const SHUTDOWN_BOUND_MS = 2_000;

/**
 * Loads the OpenTelemetry SDK (only now: with tracing off, none of it is in memory), registers it
 * globally (so the OAuth library's spans, made through `@opentelemetry/api`, join the same traces)
 * and returns the proxy's view of it.
 */
export async function startTracing(config: TracingConfig): Promise<ProxyTracing> {
  const [api, core, resources, base, node, exporters] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    config.protocol === 'http/json'
      ? import('@opentelemetry/exporter-trace-otlp-http')
      : import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);
  const exporter = new exporters.OTLPTraceExporter({ url: config.url, headers: config.headers, timeoutMillis: EXPORT_TIMEOUT_MS });
  const counted = new CountingExport(exporter, core.ExportResultCode.SUCCESS);
  const batch = new base.BatchSpanProcessor(counted, {
    maxQueueSize: MAX_QUEUED_SPANS,
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
    scheduledDelayMillis: config.scheduleDelayMs,
  });
  const ratio = new base.TraceIdRatioBasedSampler(config.sampler.ratio);
  const root = {
    always_on: new base.AlwaysOnSampler(),
    always_off: new base.AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() }),
    parentbased_always_off: new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() }),
    parentbased_traceidratio: new base.ParentBasedSampler({ root: ratio }),
  }[config.sampler.name];
  const provider = new node.NodeTracerProvider({
    resource: resources.resourceFromAttributes(config.resource),
    sampler: root,
    spanProcessors: [new BoundedQueue(batch, counted)],
  });
  const propagators = config.propagators.map((name) =>
    name === 'tracecontext' ? new core.W3CTraceContextPropagator() : new core.W3CBaggagePropagator(),
  );
  provider.register({ propagator: new core.CompositePropagator({ propagators }) });
  const tracer = api.trace.getTracer('oauth-gateway');
  return {
    begin: (req) => new SdkCallTrace(api, tracer, req),
    dropped: () => counted.dropped,
    shutdown: async () => {
      await Promise.race([
        provider.shutdown().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, SHUTDOWN_BOUND_MS).unref()),
      ]);
      api.trace.disable();
      api.propagation.disable();
      api.context.disable();
    },
  };
}

type Api = typeof import('@opentelemetry/api');

class SdkCallTrace implements CallTrace {
  readonly traceId: string;
  readonly spanId: string;
  private readonly server: Span;
  private readonly context: Context;
  private client: Span | undefined;
  private problem: string | undefined;
  private readonly method: string;

  constructor(
    private readonly api: Api,
    private readonly tracer: Tracer,
    req: IncomingMessage,
  ) {
    const parent = api.propagation.extract(api.ROOT_CONTEXT, req.headers);
    const method = (this.method = req.method ?? 'OTHER');
    // The path without its query, which may carry a credential.
    const attributes = { 'http.request.method': method, 'url.path': (req.url ?? '').split('?')[0] };
    this.server = tracer.startSpan(method, { kind: api.SpanKind.SERVER, attributes }, parent);
    this.context = api.trace.setSpan(parent, this.server);
    ({ traceId: this.traceId, spanId: this.spanId } = this.server.spanContext());
  }

  within<T>(fn: () => T): T {
    return this.api.context.with(this.context, fn);
  }

  upstream(method: string, origin: string, headers: Record<string, string | string[]>): void {
    this.client?.end();
    const url = new URL(origin);
    this.client = this.tracer.startSpan(
      method,
      {
        kind: this.api.SpanKind.CLIENT,
        attributes: { 'http.request.method': method, 'server.address': url.hostname, 'server.port': Number(url.port) || undefined },
      },
      this.context,
    );
    delete headers.traceparent;
    delete headers.tracestate;
    this.api.propagation.inject(this.api.trace.setSpan(this.context, this.client), headers);
  }

  failed(code: string): void {
    this.problem = code;
  }

  end({ provider, caller, status, outcome }: TracedCall): void {
    const problem = this.problem;
    const { SpanStatusCode } = this.api;
    const failed = status >= 500 || outcome === 'upstream_broken';
    if (this.client) {
      if (problem === undefined) this.client.setAttribute('http.response.status_code', status);
      if (failed) this.client.setStatus({ code: SpanStatusCode.ERROR, message: problem ?? outcome });
      this.client.end();
    }
    const known = provider !== '-';
    if (known) this.server.updateName(`${this.method} /${provider}/*`);
    this.server.setAttributes({
      'http.route': known ? `/${provider}/*` : undefined,
      'http.response.status_code': status,
      'gateway.provider': known ? provider : undefined,
      'gateway.caller': caller !== '-' ? caller : undefined,
      'gateway.outcome': outcome,
      'gateway.problem': problem,
      'error.type': failed ? (problem ?? outcome) : undefined,
    });
    if (failed) this.server.setStatus({ code: SpanStatusCode.ERROR, message: problem ?? outcome });
    this.server.end();
  }
}

/** Counts the spans handed to the exporter and those it failed to deliver. */
class CountingExport implements SpanExporter {
  taken = 0;
  dropped = 0;
  constructor(
    private readonly inner: SpanExporter,
    private readonly success: ExportResultCode,
  ) {}
  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.taken += spans.length;
    this.inner.export(spans, (result) => {
      if (result.code !== this.success) this.dropped += spans.length;
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** The batch processor drops silently when its queue is full: this one drops first, and counts. */
class BoundedQueue implements SpanProcessor {
  private ended = 0;
  constructor(
    private readonly inner: SpanProcessor,
    private readonly counts: CountingExport,
  ) {}
  onStart(span: Parameters<SpanProcessor['onStart']>[0], parent: Context): void {
    this.inner.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    if (!span.spanContext().traceFlags) return; // not sampled: the batch processor would skip it too
    if (this.ended - this.counts.taken >= MAX_QUEUED_SPANS) {
      this.counts.dropped++;
      return;
    }
    this.ended++;
    this.inner.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
