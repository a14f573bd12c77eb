import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { TokenLock } from './token-store.interface.js';

/** What the lock needs from the store around it: running a command (its failures count) and reading an entry. */
export interface RenewalLockContext {
  run<T>(command: () => Promise<T>): Promise<T>;
  decode(key: string, raw: string): AccessToken | undefined;
  /** How often `waitFor` looks at Redis between pub/sub wake-ups. */
  pollIntervalMs: number;
}

// KEYS[1] lock key; ARGV holder, wake channel. A holder whose lock expired cannot free the next one's.
const RELEASE_IF_HOLDER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'released')
return 1`;

// KEYS[1] lock key; ARGV holder, lease ms. Only the holder extends its own lease.
const EXTEND_IF_HOLDER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

/** How often a sender retries releasing a lock whose command failed, until Redis answers. */
const RELEASE_RETRY_MS = 250;
/** After this the sender stops retrying: a lock Redis still takes for it then frees itself within its lease. */
const RELEASE_GIVE_UP_MS = 60_000;

/**
 * The cluster-wide renewal protocol on Redis, apart from where tokens are stored: a lock per token
 * key (`<key>:lock`, released only by its holder) and waiting for the holder's result, woken by
 * pub/sub on `<key>:wake` and polling in case a message is missed.
 */
export class RedisRenewalLock {
  /** Created on the first `waitFor`: a connection in subscriber mode cannot run other commands. */
  private subscriber?: Redis | Cluster;
  /** Wake channels subscribed to: one per token key, i.e. per provider, kept for the store's life. */
  private readonly channels = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly context: RenewalLockContext,
  ) {}

  /**
   * The holder's value is chosen before the command is sent: when `SET NX` fails or times out, Redis
   * may still run it later (a hung server resuming, a Cluster client re-sending it after a
   * failover), so the sender releases that value as soon as Redis answers again.
   */
  async lock(key: string, leaseMs: number): Promise<TokenLock | undefined> {
    const holder = randomBytes(16).toString('base64url');
    // Without a ready connection the client rejects the command without sending it.
    const sent = this.client.status === 'ready';
    let taken: string | null;
    try {
      taken = await this.context.run(() => this.client.set(lockKey(key), holder, 'PX', wholeMs(leaseMs), 'NX'));
    } catch (error) {
      if (sent) this.releaseUntilAnswered(key, holder, Date.now() + RELEASE_GIVE_UP_MS);
      throw error;
    }
    if (taken !== 'OK') return undefined;
    return {
      extend: async (ms) => (await this.context.run(() => this.client.eval(EXTEND_IF_HOLDER, 1, lockKey(key), holder, wholeMs(ms)))) === 1,
      release: async () => {
        try {
          await this.release(key, holder);
        } catch (error) {
          this.releaseUntilAnswered(key, holder, Date.now() + RELEASE_GIVE_UP_MS);
          throw error;
        }
      },
    };
  }

  /**
   * Waits for a token other than `notToken`. Also stops as soon as nobody holds the lock any more
   * (the holder gave up, or died and its lock expired): there is nothing left to wait for, and the
   * caller had better renew itself than sit out the whole timeout.
   */
  async waitFor(key: string, timeoutMs: number, notToken?: string): Promise<AccessToken | undefined> {
    const deadline = Date.now() + timeoutMs;
    const channel = wakeChannel(key);
    const bell = new Doorbell();
    const waiting = this.waiters.get(channel) ?? new Set();
    this.waiters.set(channel, waiting.add(bell.ring));
    this.listen(channel);
    try {
      while (!this.closed) {
        const [raw, holder] = await this.context.run(() => this.client.mget(key, lockKey(key)));
        const token = raw ? this.context.decode(key, raw) : undefined;
        const fresh = token && token.accessToken !== notToken ? token : undefined;
        const left = deadline - Date.now();
        if (fresh || holder === null || left <= 0) return fresh;
        await bell.wait(Math.min(this.context.pollIntervalMs, left));
      }
      return undefined;
    } finally {
      waiting.delete(bell.ring);
      if (waiting.size === 0) this.waiters.delete(channel);
    }
  }

  private async release(key: string, holder: string): Promise<void> {
    await this.context.run(() => this.client.eval(RELEASE_IF_HOLDER, 1, lockKey(key), holder, wakeChannel(key)));
  }

  /** Retries releasing `holder`'s lock in the background until one attempt is answered (or the store closes). */
  private releaseUntilAnswered(key: string, holder: string, giveUpAt: number): void {
    const retry = setTimeout(() => {
      if (this.closed || Date.now() > giveUpAt) return;
      this.release(key, holder).catch(() => this.releaseUntilAnswered(key, holder, giveUpAt));
    }, RELEASE_RETRY_MS);
    retry.unref();
  }

  /** Wakes every waiter (they return nothing) and closes the subscriber. */
  close(): void {
    this.closed = true;
    for (const waiting of this.waiters.values()) waiting.forEach((ring) => ring());
    this.subscriber?.disconnect();
  }

  private listen(channel: string): void {
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    if (!this.subscriber) {
      const subscriber = this.client.duplicate();
      // On every (re)connect: ioredis resubscribes by itself, but not to channels added while it was away.
      subscriber.on('ready', () => void this.subscribe(subscriber, [...this.channels]));
      subscriber.on('message', (ch: string) => this.wake(ch));
      subscriber.on('error', () => undefined); // polling covers a missing subscriber; isDegraded reports outages
      this.subscriber = subscriber;
    } else if (this.subscriber.status === 'ready') {
      void this.subscribe(this.subscriber, [channel]);
    }
  }

  private async subscribe(subscriber: Redis | Cluster, channels: string[]): Promise<void> {
    try {
      await subscriber.subscribe(...channels);
    } catch {
      channels.forEach((ch) => this.channels.delete(ch)); // the next waitFor tries again
      return;
    }
    // A token set just before the subscription took effect was not announced: look again.
    channels.forEach((ch) => this.wake(ch));
  }

  private wake(channel: string): void {
    this.waiters.get(channel)?.forEach((ring) => ring());
  }
}

/** Lets a waiter sleep until woken or a time passes; a ring between two waits is not lost. */
class Doorbell {
  private rung = false;
  private wakeUp?: () => void;
  readonly ring = () => {
    this.rung = true;
    this.wakeUp?.();
  };

  async wait(ms: number): Promise<void> {
    if (!this.rung) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.rung = false;
    this.wakeUp = undefined;
  }
}

const lockKey = (key: string) => `${key}:lock`;
/** The channel a token's waiters listen on: the store publishes on it when it sets the token. */
export const wakeChannel = (key: string) => `${key}:wake`;
/** PX takes whole milliseconds, at least one. */
export const wholeMs = (ms: number) => Math.max(1, Math.ceil(ms));
