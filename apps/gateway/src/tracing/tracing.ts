import type { IncomingMessage } from 'node:http';

/** Nest token of the gateway's `ProxyTracing`, `null` when tracing is off. */
export const GATEWAY_TRACING = Symbol('GATEWAY_TRACING');

/** What the proxy needs of tracing; undefined in its context when tracing is off (nothing of OpenTelemetry is loaded then). */
export interface ProxyTracing {
  /**
   * Starts the server span of one proxied request, continuing the caller's `traceparent`; one without
   * trace id or span when the request starts no trace (none came with it and the sampler did not pick it).
   */
  begin(req: IncomingMessage): CallTrace;
  /** Spans ended but never exported (queue full, exporter failing). */
  dropped(): number;
  /** Exports what is queued, within a bound, and stops. */
  shutdown(): Promise<void>;
}

/** What a finished request tells its span. */
export interface TracedCall {
  provider: string;
  caller: string;
  status: number;
  outcome: string;
}

/** The headers of an upstream request; an undefined value is a header not sent. */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** The spans of one proxied request. */
export interface CallTrace {
  /** The caller's or the gateway's; undefined when the request starts no trace. */
  readonly traceId: string | undefined;
  /** The server span's; undefined when the request is not recorded. */
  readonly spanId: string | undefined;
  /** Runs `fn` with the server span current, for its synchronous part: the token request it starts takes its trace from there. */
  within<T>(fn: () => T): T;
  /**
   * Starts the client span of one upstream call and puts its context in `headers` (`traceparent`,
   * `tracestate`), replacing the caller's; when the request is not recorded, leaves the caller's as they came.
   */
  upstream(method: string, origin: string, headers: UpstreamHeaders): void;
  /** The gateway answered with this problem itself. */
  failed(code: string): void;
  end(call: TracedCall): void;
}
