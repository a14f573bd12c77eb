import type { DestinationStream, Logger } from 'pino';

/**
 * How a request ended: its answer relayed whole (`ok`), a problem answered (`problem`), the API's
 * answer broken after its head (`upstream_broken`), or the caller gone before the end (`client_closed`).
 */
export type Outcome = 'ok' | 'problem' | 'upstream_broken' | 'client_closed';

/** What the access line says about one proxied request. */
export interface AccessLine {
  reqId: string;
  /** The name of the caller's key; `-` when no known key was presented. Never the key. */
  caller: string;
  /** The client's address. */
  client: string;
  /** Time on the provider's API; undefined when the request never went upstream. */
  upstreamMs: number | undefined;
  bytesIn: number;
  bytesOut: number;
  /** `-` when the request was refused before a provider was known. */
  provider: string;
  method: string;
  /** Without the query string, which may carry a credential. */
  path: string;
  status: number;
  outcome: Outcome;
  ms: number;
  /** The request's trace and server span, when tracing is on: the trace alone when the request is not recorded, neither when it starts no trace. */
  traceId?: string;
  spanId?: string;
}

const INFO = 30; // pino's number for `info`

/**
 * The proxy's `proxied` line, one per request: pino's JSON (`level`, `time`, the root logger's
 * base fields, the fields, `msg`) written to the root logger's own destination, so it is ordered,
 * batched and flushed with every other line and shown by pino-pretty in development. It is built
 * with one template literal because its fields are fixed, and pino's generic serialisation of the
 * same object would add garbage on every request, whose collections every in-flight request waits
 * out. No redaction is needed: nothing but these fields is ever written. Strings are
 * JSON-escaped (the path and the request id come from the caller); `upstreamMs` is left out when
 * undefined, as pino does.
 */
export class AccessLog {
  private readonly bindings: string;

  /** `base`: the root logger's `base` option, e.g. `{ pid }` (pino's `bindings()` leaves `pid` out). */
  constructor(
    private readonly logger: Logger,
    private readonly destination: DestinationStream,
    base: Record<string, unknown>,
  ) {
    // `{"pid":123}` → `,"pid":123`: the base fields, as pino writes them after `time`.
    const fields = JSON.stringify(base);
    this.bindings = fields === '{}' ? '' : `,${fields.slice(1, -1)}`;
  }

  write(line: AccessLine): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const upstream = line.upstreamMs === undefined ? '' : `,"upstreamMs":${line.upstreamMs}`;
    // Hex ids made by the tracing SDK, never by the caller: no escaping needed.
    const trace =
      line.traceId === undefined ? '' : `,"trace_id":"${line.traceId}"${line.spanId === undefined ? '' : `,"span_id":"${line.spanId}"`}`;
    this.destination.write(
      `{"level":${INFO},"time":${Date.now()}${this.bindings},"reqId":${JSON.stringify(line.reqId)},` +
        `"caller":${JSON.stringify(line.caller)},"client":${JSON.stringify(line.client)}${upstream},` +
        `"bytesIn":${line.bytesIn},"bytesOut":${line.bytesOut},"provider":${JSON.stringify(line.provider)},` +
        `"method":${JSON.stringify(line.method)},"path":${JSON.stringify(line.path)},"status":${line.status},"outcome":"${line.outcome}","ms":${line.ms}${trace},"msg":"proxied"}\n`,
    );
  }
}
