import type { IncomingMessage } from 'node:http';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { ExportResultCode } from '@opentelemetry/core';
import type { IdGenerator, ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/tracing-config.js';
import { drawWord, ratioBound, traceIdDrawn } from './ratio-root.js';
import { SyncContextManager } from './sync-context.js';
import type { CallTrace, ProxyTracing, TracedCall, UpstreamHeaders } from './tracing.js';

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
  // With a ratio sampler, a request that comes with no trace is decided by a draw before it gets an id (`ratio-root.ts`).
  const drawnBound =
    config.sampler.name === 'traceidratio' || config.sampler.name === 'parentbased_traceidratio'
      ? ratioBound(config.sampler.ratio)
      : undefined;
  const root = {
    always_on: new base.AlwaysOnSampler(),
    always_off: new base.AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() }),
    parentbased_always_off: new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() }),
    parentbased_traceidratio: new base.ParentBasedSampler({ root: ratio }),
  }[config.sampler.name];
  const ids = new PresetTraceIds(new base.RandomIdGenerator());
  const provider = new node.NodeTracerProvider({
    resource: resources.resourceFromAttributes(config.resource),
    sampler: root,
    idGenerator: ids,
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
  // The token requests of a request that is not recorded are not either, whatever the sampler would say of them alone.
  const unrecorded = core.suppressTracing(api.ROOT_CONTEXT);
  return {
    // The sampler's decision comes first: a request it does not record makes no span and leaves its headers as they came.
    begin: (req) => {
      const continued = fields.some((field) => req.headers[field] !== undefined);
      if (!continued && drawnBound !== undefined) {
        const drawn = drawWord();
        if (drawn >= drawnBound) return UNTRACED;
        ids.preset(traceIdDrawn(drawn));
        return new SdkCallTrace(api, tracer, req, api.ROOT_CONTEXT);
      }
      const parent = continued ? api.propagation.extract(api.ROOT_CONTEXT, req.headers) : api.ROOT_CONTEXT;
      const inherited = api.trace.getSpanContext(parent);
      const traceId = inherited?.traceId ?? ids.generateTraceId();
      const { decision } = root.shouldSample(parent, traceId, req.method ?? 'OTHER', api.SpanKind.SERVER, {}, []);
      if (decision === base.SamplingDecision.NOT_RECORD) return inherited ? new UnrecordedCall(api, unrecorded, traceId) : UNTRACED;
      if (inherited === undefined) ids.preset(traceId);
      return new SdkCallTrace(api, tracer, req, parent);
    },
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
    parent: Context,
  ) {
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

  upstream(method: string, origin: string, headers: UpstreamHeaders): void {
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
    const carrier: Record<string, string> = {};
    this.api.propagation.inject(this.api.trace.setSpan(this.context, this.client), carrier);
    // The caller's replaced in place (never deleted, which would put the object in V8's slow dictionary
    // mode), appended in `traceSlots`' order when absent; the caller's `baggage` goes on as it came.
    headers.traceparent = carrier.traceparent;
    headers.tracestate = carrier.tracestate;
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

/**
 * A request the sampler does not record: no span, the caller's trace headers passed on untouched,
 * its trace id (if it came with one) for the access line, and its token requests unrecorded.
 */
class UnrecordedCall implements CallTrace {
  readonly spanId = undefined;
  constructor(
    private readonly api: Api,
    private readonly unrecorded: Context,
    readonly traceId: string,
  ) {}
  within<T>(fn: () => T): T {
    return this.api.context.with(this.unrecorded, fn);
  }
  upstream(_method: string, _origin: string, headers: UpstreamHeaders): void {
    traceSlots(headers);
  }
  failed(): void {}
  end(): void {}
}

/** A request that came with no trace and that the sampler did not pick: no trace, no span, no trace header. */
const UNTRACED: CallTrace = {
  traceId: undefined,
  spanId: undefined,
  within: (fn) => fn(),
  upstream: (_method, _origin, headers) => traceSlots(headers),
  failed: () => undefined,
  end: () => undefined,
};

/**
 * Gives `headers` both trace headers' keys, holding undefined (which undici does not send) where the
 * caller sent none, so that every upstream header object has one shape whether its request is recorded
 * or not: with the keys added to the recorded requests alone, the tracing bench row measured 1 %
 * sampling clearly dearer (bench/results.md), a second shape along undici's path being the likely cause.
 */
function traceSlots(headers: UpstreamHeaders): void {
  if (!('traceparent' in headers)) headers.traceparent = undefined;
  if (!('tracestate' in headers)) headers.tracestate = undefined;
}

/** Random ids, except the next trace id when the gateway drew it itself to ask the sampler first. */
class PresetTraceIds implements IdGenerator {
  private next: string | undefined;
  constructor(private readonly random: IdGenerator) {}
  preset(traceId: string): void {
    this.next = traceId;
  }
  generateTraceId(): string {
    const preset = this.next;
    this.next = undefined;
    return preset ?? this.random.generateTraceId();
  }
  generateSpanId(): string {
    return this.random.generateSpanId();
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
