import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AccessLog } from '../logging/access-log.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { Outcome } from '../logging/access-log.js';
import type { ParserAnswer } from './client-errors.js';
import type { ForwardedFor } from './forwarded-for.js';

export type { Outcome };

/** What the access line and the metrics say about a proxied request whose outcome is decided. */
export interface FinishedCall {
  readonly req: IncomingMessage;
  readonly requestId: string;
  /** `performance.now()` when the request arrived. */
  readonly started: number;
  /** `performance.now()` when it went upstream, less the token wait of a replay; 0: never sent. */
  readonly upstreamAt: number;
  /** The caller's connection's `bytesWritten` before this request's answer. */
  readonly writtenBefore: number;
  readonly caller: string;
  readonly provider: string;
  readonly path: string;
  readonly status: number;
  readonly outcome: Outcome;
  readonly body: { readonly bytes: number } | undefined;
  readonly trace: { readonly traceId: string | undefined; readonly spanId: string | undefined } | undefined;
}

/** The access lines and the metrics of the proxy's requests, refused ones included. */
export class ProxyLog {
  constructor(
    private readonly accessLog: AccessLog,
    private readonly metrics: MetricsService,
    private readonly forwardedFor: ForwardedFor,
  ) {}

  /** The access line and the metrics of one request, once its outcome is decided. */
  finished(call: FinishedCall): void {
    const ended = performance.now();
    const ms = ended - call.started;
    const upstreamMs = call.upstreamAt === 0 ? undefined : ended - call.upstreamAt;
    const method = call.req.method ?? '';
    this.metrics.recordProxied(call.provider, method || 'OTHER', call.status, ms / 1000, upstreamMs && upstreamMs / 1000);
    // The path never includes the query string (it may carry a secret).
    this.accessLog.write({
      reqId: call.requestId,
      caller: call.caller,
      // The caller's own address, as TRUSTED_PROXIES resolves it.
      client: this.forwardedFor.clientAddress(call.req),
      upstreamMs: upstreamMs && Math.round(upstreamMs),
      bytesIn: call.body?.bytes ?? 0,
      bytesOut: call.req.socket.bytesWritten - call.writtenBefore,
      provider: call.provider,
      method,
      path: call.path,
      status: call.status,
      outcome: call.outcome,
      ms: Math.round(ms),
      traceId: call.trace?.traceId,
      spanId: call.trace?.spanId,
    });
  }

  /** A request the server refused before any proxying (caller unknown); `ms`: the time it took. */
  refused(req: IncomingMessage, requestId: string, status: number, bytesOut: number, ms: number): void {
    this.refusal(requestId, this.forwardedFor.clientAddress(req), req.method ?? '-', status, bytesOut, ms);
  }

  /** A request Node's parser refused; `client`: the peer's address. */
  parserRefused({ requestId, method, status, bytesOut }: ParserAnswer, client: string): void {
    this.refusal(requestId, client, method, status, bytesOut, 0);
  }

  /** A request about to be replayed after the provider's 401. */
  replayed(provider: string): void {
    this.metrics.recordReplay(provider);
  }

  /** A request answered with a problem, cut, or left by its caller: `code` is the problem's or the outcome's. */
  failed(provider: string, code: string, status: number): void {
    this.metrics.recordProxyError(provider, code, status);
  }

  private refusal(reqId: string, client: string, method: string, status: number, bytesOut: number, ms: number): void {
    this.accessLog.write({
      reqId,
      caller: '-',
      client,
      upstreamMs: undefined,
      bytesIn: 0,
      bytesOut,
      provider: '-',
      method,
      path: '',
      status,
      outcome: 'problem',
      ms: Math.round(ms),
    });
  }
}
