import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';

/** A cause of failure is written again at most this often. */
const SAME_CAUSE_EVERY_MS = 60_000;

/** Warning lines limited to one per cause per minute: an outage that lasts, or flaps, stays readable. */
export class CauseLog {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Writes the line unless one for the same cause was written within the last minute; true when written. */
  warn(cause: string, fields: Record<string, unknown>): boolean {
    const now = this.now();
    const last = this.last.get(cause);
    if (last !== undefined && now - last < SAME_CAUSE_EVERY_MS) return false;
    this.last.set(cause, now);
    this.logger.warn({ ...fields, cause });
    return true;
  }
}

/** What went wrong, in few enough words to rate-limit by: ioredis' timeouts, a socket's error code, or the message. */
export function failureCause(error: unknown): string {
  const { message, code } = (error ?? {}) as { message?: string; code?: string };
  if (message === 'Command timed out') return 'timeout';
  return code ?? message ?? String(error);
}

/** The client's own command timeout, which bounds every command of a use (a Cluster's per-node option). */
export function commandTimeoutOf(client: Redis | Cluster): number | undefined {
  return client.isCluster ? (client as Cluster).options.redisOptions?.commandTimeout : (client as Redis).options?.commandTimeout;
}

/**
 * Logs a client's 'error' events (refused connections, lost sockets, a Cluster without a slot's
 * master), one line per cause per minute; ioredis would otherwise print every reconnection failure.
 */
export function logClientErrors(client: Redis | Cluster, logger: Logger): void {
  const lines = new CauseLog(logger);
  client.on('error', (error: unknown) => void lines.warn(failureCause(error), { msg: 'Redis client error' }));
}

/**
 * Whether Redis answers one use of it (the token store, the rate limiter): degraded from a failed
 * or timed-out command until one succeeds, and while the client is not connected. Counts the
 * timeouts, writes one warning line when an outage starts (one per cause per minute) and one line
 * with its duration when Redis answers again.
 */
export class RedisCommandHealth {
  /** Commands of this use that got no answer within the client's command timeout, since start. */
  timeouts = 0;
  /** When the last command ended, failed or not (ms since the epoch). */
  lastOutcomeAt?: number;
  private failingSince?: number;
  private announced = false;
  private readonly lines: CauseLog;
  private readonly boundMs?: number;

  constructor(
    /** `token_store` or `rate_limit`: the `use` label of the metrics and the log lines. */
    readonly use: string,
    private readonly client: Redis | Cluster,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.lines = new CauseLog(logger, now);
    this.boundMs = commandTimeoutOf(client);
  }

  /**
   * Runs one command of this use and records how it ended. It gives up after the client's command
   * timeout whatever the client does meanwhile: a Cluster client retries a command across a
   * failover (redirections, cluster-down delays) for longer than that.
   */
  async run<T>(command: () => Promise<T>): Promise<T> {
    let result: T;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = command();
      result = await (this.boundMs === undefined
        ? answer
        : Promise.race([
            answer,
            new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('Command timed out')), this.boundMs))),
          ]));
    } catch (error) {
      this.failed(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.succeeded();
    return result;
  }

  isDegraded(): boolean {
    return this.client.status !== 'ready' || this.failingSince !== undefined;
  }

  succeeded(): void {
    this.lastOutcomeAt = this.now();
    if (this.failingSince === undefined) return;
    if (this.announced) this.logger.log({ msg: 'Redis answering again', use: this.use, outageMs: this.now() - this.failingSince });
    this.failingSince = undefined;
    this.announced = false;
  }

  failed(error: unknown): void {
    const now = (this.lastOutcomeAt = this.now());
    const cause = failureCause(error);
    if (cause === 'timeout') this.timeouts++;
    this.failingSince ??= now;
    if (!this.announced) this.announced = this.lines.warn(cause, { msg: 'Redis commands failing', use: this.use });
  }
}
