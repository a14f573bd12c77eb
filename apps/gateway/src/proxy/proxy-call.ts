import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import type { AccessToken } from '@oauth-gateway/oauth-providers';
import type { Caller } from '../auth/api-keys.js';
import { requestIdFor } from '../http/request-id.js';
import { ProblemError } from '../problem/problem.js';
import type { Admitted } from './admission.js';
import { liveConnections, refusedBytes } from './answer-connection.js';
import { answerProblem, bodyOverdue, bodyStillArriving, endAnswer } from './caller-answer.js';
import type { ProxyContext } from './proxy-context.js';
import type { FinishedCall, Outcome } from './proxy-log.js';
import { callerResponseHeaders, withProviderHeaders } from './proxy-headers.js';
import type { RequestBody } from './request-body.js';
import { contentAfterBodiless, contentOn204, upstreamProblem } from './upstream-problem.js';
import type { Upstream } from './upstreams.js';
import type { CallTrace, TracedCall } from '../tracing/tracing.js';

/** What happens to the upstream answer being received: not known yet, read and dropped (a 401 about to be replayed), relayed. */
const PENDING = 0;
const DISCARD = 1;
const RELAY = 2;

/** The reason given to undici when a caller went away; one shared object, never shown to anyone. */
const CALLER_GONE = new Error('the caller went away');
/** The status logged for a caller that went away before its answer was complete (nginx's 499). */
export const CALLER_GONE_STATUS = 499;

/**
 * One proxied request, from its head to its outcome: the single owner of the caller's body (a
 * `RequestBody`, which never emits an error anyone must handle) and of the upstream exchange (its
 * undici dispatch handler); everything else comes from its `ProxyContext`. Whatever happens first
 * decides the caller's outcome, exactly once (`settled`): the relayed answer, a problem (401…413,
 * 408, 502, 503, 504), a cut (the answer broke after part of it was sent), or nothing for a caller
 * gone (logged 499); then what still runs for it stops, its in-flight place is given back and its
 * access line is written. The answer is written into the caller's response as it arrives, with
 * back-pressure, its head with its first byte or its end (breaking before then: 502). A 1xx is
 * dropped and resets undici's timer, so the sweeper then holds `UPSTREAM_TIMEOUT_MS`.
 */
export class ProxyCall implements Dispatcher.DispatchHandler, Admitted, FinishedCall, TracedCall {
  readonly requestId: string;
  readonly started = performance.now();
  readonly writtenBefore: number;
  // Set by admission (see `Admitted`).
  caller = '-';
  provider = '-';
  path = '';
  limited: Caller | undefined;
  upstream: Upstream | undefined;
  target = '';
  headers: Record<string, string | string[]> = {};
  body: RequestBody | undefined;
  status = 0;
  /** `performance.now()` when the request went upstream, moved forward by the token wait of a replay; 0: never sent. */
  upstreamAt = 0;
  outcome: Outcome = 'ok';
  readonly trace: CallTrace | undefined;
  /** `performance.now()` when the latest attempt went upstream. */
  private sentAt = 0;
  /** An informational answer arrived: the sweeper holds the deadline of the final head. */
  private informed = false;
  /** The connections a `204`/`304` may have come on, checked for bytes after it before the caller's answer ends. */
  private bodiless: Socket[] | undefined;
  /** The answer's head, until its first byte or its end is written. */
  private head: OutgoingHttpHeaders | undefined;
  private token: AccessToken | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  private mode = PENDING;
  private replaying = false;
  private replayBody: Buffer | undefined;
  /** The sweeper's clock when the caller stopped taking the answer (0: it takes it). */
  private pausedAt = 0;
  private onDrain: (() => void) | undefined;
  private readonly onClose = () => this.callerClosed();

  constructor(
    private readonly context: ProxyContext,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The caller waits for a `100 Continue` before sending its body; sent when the body is wanted. */
    private expectsContinue: boolean,
  ) {
    this.requestId = requestIdFor(req.headers['x-request-id']);
    this.writtenBefore = req.socket.bytesWritten;
    this.trace = context.tracing?.begin(req);
    res.on('close', this.onClose);
  }

  /** Checks the request, waits for the token and sends it upstream; every failure is answered, never thrown. */
  async start(): Promise<void> {
    try {
      const { admission, tokens } = this.context;
      const refusal = admission.admit(this);
      if (refusal !== undefined) return this.fail(refusal);
      if (this.limited !== undefined) {
        const limited = await admission.limit(this.limited, this.provider);
        if (limited !== undefined) return this.fail(limited);
      }
      const token = await tokens.token(this.provider, this.trace);
      if (!this.settled) this.send(token, this.body);
    } catch (error) {
      try {
        this.fail(error);
      } catch (bug) {
        // `fail` answers every failure itself; this is the net under a bug in it, never a crash.
        this.context.logger.error({ reqId: this.requestId, err: bug }, 'proxy failed');
        this.res.destroy();
      }
    }
  }

  /** From `RequestBody`: the caller's body went over `MAX_BODY_BYTES`. */
  bodyTooLarge(): void {
    this.fail(this.context.admission.tooLarge(this.provider));
  }

  /** From the sweeper: the caller's deadlines and, once a 1xx arrived, the final head's. */
  expire(now: number): void {
    const { terms, uploadTimeoutMs } = this.context;
    if (this.settled) return terms.sweeper.unwatch(this);
    const body = this.body;
    const late = body !== undefined && !this.expectsContinue ? bodyOverdue(body, now, terms, uploadTimeoutMs) : undefined;
    if (late !== undefined) return this.fail(new ProblemError('request_timeout', { provider: this.provider, detail: late }));
    if (this.informed && this.mode === PENDING && body?.ended !== false && now - this.sentAt > this.context.upstreamTimeoutMs) {
      return this.fail(new ProblemError('upstream_timeout', { provider: this.provider }));
    }
    if (this.pausedAt !== 0 && now - this.pausedAt > terms.clientTimeoutMs + terms.sweeper.periodMs) {
      this.context.logger.debug({ reqId: this.requestId, provider: this.provider }, 'caller stopped reading the answer: cut');
      this.cut('client_closed');
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(CALLER_GONE);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.settled) return;
    // 1xx: informational, never relayed; the real answer follows, within the same deadline.
    if (statusCode < 200) {
      this.informed = true;
      return this.context.terms.sweeper.watch(this);
    }
    if (statusCode === 401 && !this.replaying && this.context.tokens.mayRenew(this.provider, this.token!)) {
      // The provider dropped this token early (revoked, rotated): renew once and replay, if we can;
      // while renewals are paced the 401 is the caller's, so callers cannot make token requests at will.
      this.replayBody = this.body?.replay();
      if (this.body === undefined || this.replayBody !== undefined) {
        this.mode = DISCARD;
        return;
      }
    }
    const broken = statusCode === 204 ? contentOn204(headers, this.provider) : undefined;
    if (broken !== undefined) return this.fail(broken, 'upstream_broken');
    // After `HEAD` undici never reuses the connection nor reads on, so only these can be followed by bytes it parses.
    if (statusCode === 204 || statusCode === 304) this.bodiless = liveConnections(this.upstream!.origin);
    this.mode = RELAY;
    this.status = statusCode;
    const out = callerResponseHeaders(headers, this.requestId);
    if (this.context.terms.shutdown.draining || bodyStillArriving(this.req)) out.connection = 'close';
    this.head = out;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.mode !== RELAY || this.settled) return;
    if (this.head !== undefined) this.writeHead();
    if (!this.res.write(chunk)) this.pause(controller);
  }

  onResponseEnd(): void {
    this.controller = undefined;
    if (this.settled) return;
    if (this.mode === DISCARD) return void this.replayAfter401();
    if (this.bodiless === undefined) return this.finish();
    // Bytes read with the answer are parsed right after this call (undici then drops the connection).
    const connection = this.bodiless;
    queueMicrotask(() => (refusedBytes(connection) ? this.fail(contentAfterBodiless(this.provider), 'upstream_broken') : this.finish()));
  }

  /** The upstream answer ended whole: so does the caller's. */
  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    this.body?.destroy();
    if (this.head !== undefined) this.writeHead();
    endAnswer(this.req, this.res, this.context.terms);
    this.done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.controller = undefined;
    if (this.settled) return;
    if (this.mode !== RELAY) return this.fail(upstreamProblem(error, this.provider));
    // The answer broke after its head: a 502 while nothing of it was written, else a cut.
    this.context.logger.debug({ reqId: this.requestId, err: { message: error.message } }, 'answer stream ended early');
    if (this.head === undefined) return this.cut('upstream_broken');
    this.head = undefined;
    this.fail(upstreamProblem(error, this.provider), 'upstream_broken');
  }

  private send(token: AccessToken, payload: RequestBody | Buffer | undefined): void {
    this.token = token;
    this.mode = PENDING;
    if (this.expectsContinue) {
      this.expectsContinue = false;
      this.res.writeContinue();
      this.body?.restartClock();
    }
    this.sentAt = performance.now();
    this.informed = false;
    if (this.upstreamAt === 0) this.upstreamAt = this.sentAt;
    const upstream = this.upstream!;
    const headers = withProviderHeaders(this.headers, this.context.tokens.headersFor(token));
    const pool = this.body === undefined ? upstream.pool : upstream.uploads;
    this.trace?.upstream(this.req.method!, upstream.origin, headers);
    pool.dispatch({ method: this.req.method as Dispatcher.HttpMethod, path: this.target, headers, body: payload }, this);
  }

  private async replayAfter401(): Promise<void> {
    this.replaying = true;
    this.context.log.replayed(this.provider);
    const renewing = performance.now();
    try {
      const token = await this.context.tokens.renew(this.provider, this.token!, this.trace);
      if (this.settled) return;
      this.upstreamAt += performance.now() - renewing; // the token wait is the gateway's time
      this.send(token, this.replayBody);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Ends the request with a problem (or a cut, once the answer started), stopping whatever still runs for it. */
  private fail(error: unknown, outcome: Outcome = 'problem'): void {
    if (this.settled) return;
    this.settled = true;
    const problem = error instanceof ProblemError ? error : new ProblemError('internal_error');
    if (problem.code === 'internal_error') this.context.logger.error({ reqId: this.requestId, err: error }, 'proxy failed');
    this.controller?.abort(problem);
    this.body?.destroy();
    this.outcome = outcome;
    this.trace?.failed(problem.code);
    this.context.log.failed(this.provider, outcome === 'upstream_broken' ? outcome : problem.code, problem.status);
    if (this.res.headersSent) {
      this.res.destroy();
    } else {
      this.status = problem.status;
      answerProblem(this.req, this.res, problem, this.requestId, this.context.terms);
    }
    this.done();
  }

  /** Ends an answer already started (or a caller gone) by destroying the connection, so that it is never taken as complete. */
  private cut(outcome: Outcome): void {
    this.settled = true;
    this.outcome = outcome;
    this.controller?.abort(CALLER_GONE);
    this.body?.destroy();
    this.context.log.failed(this.provider, outcome, this.status);
    this.res.destroy();
    this.done();
  }

  /** The caller went away before the end of its answer. */
  private callerClosed(): void {
    if (this.settled) return;
    this.status = CALLER_GONE_STATUS;
    this.cut('client_closed');
  }

  private done(): void {
    if (this.upstream !== undefined) this.upstream.inflight--;
    this.context.terms.sweeper.unwatch(this);
    this.context.log.finished(this);
    this.trace?.end(this);
  }

  private writeHead(): void {
    this.res.writeHead(this.status, this.head);
    this.head = undefined;
  }

  /** The caller's response is full: hold the upstream until it drains, for at most `CLIENT_TIMEOUT_MS`. */
  private pause(controller: Dispatcher.DispatchController): void {
    controller.pause();
    const sweeper = this.context.terms.sweeper;
    if (this.pausedAt === 0) this.pausedAt = sweeper.now;
    sweeper.watch(this);
    if (this.onDrain === undefined) {
      this.onDrain = () => {
        this.pausedAt = 0;
        this.controller?.resume();
      };
      this.res.on('drain', this.onDrain);
    }
  }
}
