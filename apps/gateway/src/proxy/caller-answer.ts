import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { renderProblem, type ProblemError } from '../problem/problem.js';
import type { ShutdownState } from '../shutdown/shutdown-state.js';
import type { DeadlineSweeper, Expiring } from './deadline-sweeper.js';
import type { RequestBody } from './request-body.js';

/** What bounds a lingering close: at most this much more of the caller's body is read and dropped… */
export const LINGER_MAX_BYTES = 16 * 1024 * 1024;
/** …for at most this long (nginx's `lingering_time`), and never past `CLIENT_TIMEOUT_MS` without a byte. */
export const LINGER_MAX_MS = 30_000;

/** The caller-facing limits every answer path needs. */
export interface CallerTerms {
  sweeper: DeadlineSweeper;
  clientTimeoutMs: number;
  /** Once it is draining, answers say `connection: close`. */
  shutdown: ShutdownState;
}

/** True when the request announced a body (a length other than 0, or a transfer coding). */
export function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** True while part of the caller's body has not been read off the connection yet. */
export function bodyStillArriving(req: IncomingMessage): boolean {
  return !req.complete && announcesBody(req);
}

/** Why the caller's body is late, if it is: no byte for `CLIENT_TIMEOUT_MS` (unless held), or not whole within the upload timeout. */
export function bodyOverdue(body: RequestBody, now: number, terms: CallerTerms, uploadTimeoutMs: number): string | undefined {
  if (body.ended) return undefined;
  if (!body.held && now - body.lastByteAt > terms.clientTimeoutMs + terms.sweeper.periodMs) {
    return `no byte of the body for ${terms.clientTimeoutMs} ms`;
  }
  return now - body.startedAt > uploadTimeoutMs ? `the body did not arrive within ${uploadTimeoutMs} ms` : undefined;
}

/**
 * Answers a caller with a problem+json. While its body is still arriving (an early 401, 413…), the
 * answer says `connection: close` and the connection closes only after a lingering close.
 */
export function answerProblem(
  req: IncomingMessage,
  res: ServerResponse,
  problem: ProblemError,
  requestId: string,
  terms: CallerTerms,
): void {
  const { status, headers, body } = renderProblem(problem, requestId);
  const arriving = bodyStillArriving(req);
  if (arriving || terms.shutdown.draining) headers.connection = 'close';
  res.writeHead(status, headers);
  if (arriving) {
    res.write(body);
    lingerThenEnd(req, res, terms);
  } else {
    res.end(body);
  }
}

/**
 * Ends an answer whose head is written. If the caller is still sending its body, that body is read
 * and dropped first, within bounds (nginx's lingering close): closing a connection with unread
 * bytes makes the kernel send a reset, and a caller still writing would see ECONNRESET or EPIPE
 * instead of the answer it was sent. The answer's head must have said `connection: close`.
 */
export function endAnswer(req: IncomingMessage, res: ServerResponse, terms: CallerTerms): void {
  if (bodyStillArriving(req)) lingerThenEnd(req, res, terms);
  else res.end();
}

function lingerThenEnd(req: IncomingMessage, res: ServerResponse, terms: CallerTerms): void {
  new LingeringClose(req, res, terms).start();
}

/**
 * The rest of a caller's body, discarded until it ends (then the answer ends and, the head having
 * said `connection: close`, Node closes the connection), or until a bound: more than
 * `LINGER_MAX_BYTES`, no byte for `CLIENT_TIMEOUT_MS`, or `LINGER_MAX_MS` in all (then it is cut).
 */
class LingeringClose implements Expiring {
  private readonly socket: Socket;
  private readonly firstByte: number;
  private readonly startedAt: number;
  private lastRead: number;
  private lastReadAt: number;
  private readonly finish = () => {
    this.stop();
    if (!this.res.writableEnded) this.res.end();
  };
  private readonly stop = () => this.terms.sweeper.unwatch(this);

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly terms: CallerTerms,
  ) {
    this.socket = req.socket;
    this.firstByte = this.lastRead = this.socket.bytesRead;
    this.startedAt = this.lastReadAt = terms.sweeper.now;
  }

  start(): void {
    if (this.socket.destroyed) return;
    this.req.once('end', this.finish);
    this.res.once('close', this.stop);
    this.terms.sweeper.watch(this);
    this.req.resume();
  }

  expire(now: number): void {
    const read = this.socket.bytesRead;
    if (read !== this.lastRead) {
      this.lastRead = read;
      this.lastReadAt = now;
    }
    if (
      read - this.firstByte > LINGER_MAX_BYTES ||
      now - this.lastReadAt > this.terms.clientTimeoutMs ||
      now - this.startedAt > LINGER_MAX_MS
    ) {
      this.stop();
      this.socket.destroy();
    }
  }
}
