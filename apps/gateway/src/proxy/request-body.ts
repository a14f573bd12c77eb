import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';

/** Bodies up to this size are kept while they stream, so a request can be replayed after a 401. */
export const REPLAY_LIMIT_BYTES = 1024 * 1024;

/**
 * A caller's body on its way upstream: passed through chunk by chunk (piped, so the upstream's
 * pace sets ours: back-pressure), counted against `MAX_BODY_BYTES` (chunked bodies have no
 * length up front), and copied only while it stays under `REPLAY_LIMIT_BYTES`.
 */
export class RequestBody extends Transform {
  /** Set when the body went over the limit; the stream then fails and the upstream request with it. */
  tooLarge = false;
  private received = 0;
  private kept: Buffer[] | undefined = [];
  private ended = false;

  constructor(
    source: IncomingMessage,
    private readonly limit: number,
  ) {
    super();
    // `pipe` does not forward errors: a caller that goes away must fail the upstream request too.
    source.once('error', (error) => this.destroy(error));
    source.once('aborted', () => this.destroy(new Error('the caller aborted the request')));
    source.pipe(this);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.limit) {
      this.tooLarge = true;
      callback(new Error('request body over MAX_BODY_BYTES'));
      return;
    }
    if (this.kept) {
      if (this.received <= REPLAY_LIMIT_BYTES) this.kept.push(chunk);
      else this.kept = undefined;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.ended = true;
    callback();
  }

  /** Bytes received from the caller so far (the access line's `bytesIn`). */
  get bytes(): number {
    return this.received;
  }

  /** The whole body, when it was read to its end and was small enough to keep; else undefined. */
  replay(): Buffer | undefined {
    return this.ended && this.kept ? Buffer.concat(this.kept) : undefined;
  }
}
