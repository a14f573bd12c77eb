import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/**
 * What to do with an upstream answer once its status and headers are known: `'discard'` reads
 * the body to its end and drops it (a 401 about to be replayed); otherwise the function has
 * written the caller's status line and headers (`res.writeHead`) and the body follows into `res`.
 */
export type AnswerStart = (statusCode: number, headers: IncomingHttpHeaders) => 'discard' | 'relay';

/**
 * One request to a provider's API, as an undici dispatch handler (`Dispatcher.dispatch`, the
 * client's lowest-level API): the answer's body is written straight into the caller's response
 * as it arrives, with back-pressure (undici stops reading the upstream socket while `res` is
 * full). Compared with `pool.stream()`, this saves per request an `AsyncResource` (and its
 * async-hook bookkeeping), the `finished()` listeners on `res` and a promise wrapper. `done`
 * settles when the answer ended (true), when it was cut after the caller's status line was sent
 * (false: `res` is destroyed, the caller sees a truncated answer), or rejects with the error when
 * nothing was sent to the caller yet.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  readonly done: Promise<boolean>;
  private resolve!: (whole: boolean) => void;
  private reject!: (error: Error) => void;
  private controller: Dispatcher.DispatchController | undefined;
  private mode: 'pending' | 'discard' | 'relay' = 'pending';
  private cancelled: Error | undefined;
  /** Why the answer was cut, when `done` resolved false. */
  error: Error | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly start: AnswerStart,
    private readonly body: Readable | Buffer | undefined,
  ) {
    this.done = new Promise<boolean>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The caller went away: stop the exchange (now, or as soon as undici starts it). */
  cancel(reason: Error): void {
    this.cancelled = reason;
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelled) controller.abort(this.cancelled);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx: informational, the real answer follows
    this.mode = this.start(statusCode, headers);
    if (this.mode === 'relay' && this.res.writableNeedDrain) this.pauseUntilDrained(controller);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.mode === 'relay' && !this.res.write(chunk)) this.pauseUntilDrained(controller);
  }

  onResponseEnd(): void {
    if (this.mode === 'relay') this.res.end();
    this.resolve(true);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.body && 'destroy' in this.body) this.body.destroy(error);
    this.error = error;
    if (this.res.headersSent) {
      this.res.destroy();
      this.resolve(false);
    } else {
      this.reject(error);
    }
  }

  private pauseUntilDrained(controller: Dispatcher.DispatchController): void {
    controller.pause();
    this.res.once('drain', () => controller.resume());
  }
}
