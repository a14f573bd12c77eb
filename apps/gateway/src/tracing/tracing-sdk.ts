import type { IncomingMessage } from 'node:http';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/tracing-config.js';
import { SyncContextManager } from './sync-context.js';
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
  const propagator = new core.CompositePropagator({ propagators });
  // The headers the propagators read: a request with none of them starts a new trace without being parsed.
  const fields = propagator.fields();
  provider.register({
    propagator,
    contextManager: new SyncContextManager(api.ROOT_CONTEXT),
  });
  const tracer = api.trace.getTracer('oauth-gateway');
  return {
    begin: (req) =>
      new SdkCallTrace(
        api,
        tracer,
        req,
        fields.some((field) => req.headers[field] !== undefined),
      ),
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
    propagated: boolean,
  ) {
    const parent = propagated ? api.propagation.extract(api.ROOT_CONTEXT, req.headers) : api.ROOT_CONTEXT;
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
    delete headers.traceparent;
    delete headers.tracestate;
    // Not sampled: nothing is recorded, so the partner gets the server span's context, unsampled, and no client span is made.
    if (!this.server.isRecording()) return this.api.propagation.inject(this.context, headers);
    this.client?.end();
    const { hostname, port } = originOf(origin);
    this.client = this.tracer.startSpan(
      method,
      {
        kind: this.api.SpanKind.CLIENT,
        attributes: { 'http.request.method': method, 'server.address': hostname, 'server.port': port },
      },
      this.context,
    );
    this.api.propagation.inject(this.api.trace.setSpan(this.context, this.client), headers);
  }

  failed(code: string): void {
    this.problem = code;
  }

  end({ provider, caller, status, outcome }: TracedCall): void {
    if (!this.server.isRecording()) return; // not sampled: there is nothing to tell it
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

const origins = new Map<string, { hostname: string; port: number | undefined }>();
/** An upstream origin's host and port, parsed once per origin (there are as many as providers). */
function originOf(origin: string) {
  let parsed = origins.get(origin);
  if (parsed === undefined) {
    const url = new URL(origin);
    parsed = { hostname: url.hostname, port: Number(url.port) || undefined };
    origins.set(origin, parsed);
  }
  return parsed;
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
