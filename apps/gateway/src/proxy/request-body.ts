import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** Bodies up to this size are kept while they stream, so a request can be replayed after a 401. */
export const REPLAY_LIMIT_BYTES = 1024 * 1024;

/** Who is told when a body goes over the limit (the request's owner, which answers 413). */
export interface BodyOwner {
  bodyTooLarge(): void;
}

const ignore = () => undefined;

/**
 * A caller's body on its way upstream: a stream fed from the caller's request chunk by chunk
 * (the request is paused while this stream is full, so the upstream's pace sets the caller's:
 * back-pressure), counted against `MAX_BODY_BYTES` (chunked bodies have no length up front),
 * copied only while it stays under `REPLAY_LIMIT_BYTES`, and timed for the caller's deadlines.
 *
 * Its errors are never anyone's to handle: it has its own no-op `error` listener from the start,
 * since whoever destroys it (undici when the upstream fails, the request's owner when the caller
 * does) has already decided the caller's answer. Destroyed, it lets go of the caller's request
 * and pauses it; the owner then discards the rest or closes the connection.
 */
export class RequestBody extends Readable {
  /** Bytes received from the caller so far (the access line's `bytesIn`). */
  bytes = 0;
  /** The sweeper's clock when the clock started (the head arrived, or a `100 Continue` went out). */
  startedAt: number;
  /** The sweeper's clock at the last byte received. */
  lastByteAt: number;
  /** The whole body was received. */
  ended = false;
  /** This stream is full and the caller's request paused: silence from the caller is then ours, not theirs. */
  held = false;
  private kept: Buffer[] | undefined = [];
  private readonly onData = (chunk: Buffer) => this.received(chunk);
  private readonly onEnd = () => {
    this.ended = true;
    this.push(null);
  };

  constructor(
    private readonly source: IncomingMessage,
    private readonly owner: BodyOwner,
    private readonly limit: number,
    private readonly clock: { readonly now: number },
  ) {
    super();
    this.on('error', ignore);
    this.startedAt = this.lastByteAt = clock.now;
    source.on('data', this.onData);
    source.on('end', this.onEnd);
  }

  /** Starts the caller's deadlines again: a `100 Continue` just told it to send. */
  restartClock(): void {
    this.startedAt = this.lastByteAt = this.clock.now;
  }

  override _read(): void {
    if (!this.held) return;
    this.held = false;
    this.source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.pause();
    callback(error);
  }

  /** The whole body, when it was read to its end and was small enough to keep; else undefined. */
  /** Why the body is overdue at `now` (for the caller's 408), if it is: no byte for `clientTimeoutMs` (plus a sweep), or not whole within `uploadTimeoutMs`. */
  late(now: number, clientTimeoutMs: number, sweepMs: number, uploadTimeoutMs: number): string | undefined {
    if (this.ended) return undefined;
    if (!this.held && now - this.lastByteAt > clientTimeoutMs + sweepMs) return `no byte of the body for ${clientTimeoutMs} ms`;
    if (now - this.startedAt > uploadTimeoutMs) return `the body did not arrive within ${uploadTimeoutMs} ms`;
    return undefined;
  }

  replay(): Buffer | undefined {
    return this.ended && this.kept ? Buffer.concat(this.kept) : undefined;
  }

  private received(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.lastByteAt = this.clock.now;
    if (this.bytes > this.limit) return this.owner.bodyTooLarge();
    if (this.kept) {
      if (this.bytes <= REPLAY_LIMIT_BYTES) this.kept.push(chunk);
      else this.kept = undefined;
    }
    if (!this.push(chunk)) {
      this.held = true;
      this.source.pause();
    }
  }
}
