import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { createRedisConnection, type RedisConnectionOptions } from './redis-connection.js';
import { TokenCipher, type TokenEncryptionKey } from './token-cipher.js';
import type { TokenLock, TokenStore } from './token-store.interface.js';

export interface RedisTokenStoreOptions {
  /** 32 bytes (hex, base64 or a Buffer) that encrypt every token (AES-256-GCM). Unset: clear JSON. */
  encryptionKey?: TokenEncryptionKey;
  /** Keys retired by a rotation: entries they wrote are still read until they expire. */
  previousKeys?: TokenEncryptionKey[];
  /** How often `waitFor` looks at Redis between pub/sub wake-ups (default 100 ms). */
  pollIntervalMs?: number;
}

/** A stored entry: the fingerprint `deleteIfEqual` compares, beside the sealed (or, without a key, clear) token. */
interface StoredValue {
  fp: string;
  sealed?: string;
  token?: AccessToken;
}

/** After a failed command the store reports degraded this long, unless Redis answers again first. */
const FAILURE_MEMORY_MS = 10_000;

// KEYS[1] token key; ARGV fingerprints of the token under every configured key (rotation).
const DELETE_IF_FINGERPRINT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, value = pcall(cjson.decode, raw)
if not ok or type(value) ~= 'table' then return 0 end
for i = 1, #ARGV do
  if value.fp == ARGV[i] then return redis.call('DEL', KEYS[1]) end
end
return 0`;

// KEYS[1] token key; ARGV value, ttl ms, wake channel. Waiters hear of the token in the same step.
const SET_AND_WAKE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], 'set')
return 1`;

// KEYS[1] lock key; ARGV holder, wake channel. A holder whose lock expired cannot free the next one's.
const RELEASE_IF_HOLDER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], 'released')
return 1`;

/**
 * Tokens shared by every gateway instance through Redis (single server, Cluster or Sentinel),
 * encrypted at rest, with a cluster-wide renewal lock. Every key of one token (`<key>`,
 * `<key>:lock`) carries the service's `{provider}` hash tag, so they live in one Cluster slot.
 *
 * Pass a client (it stays the caller's) or connection options (the store creates the client and
 * `close()` quits it). Either way, build it like `createRedisConnection` does: commands that fail
 * fast when Redis is away are what let the service fall back to its local copy without waiting.
 */
export class RedisTokenStore implements TokenStore {
  readonly shared = true;
  private readonly client: Redis | Cluster;
  private readonly ownsClient: boolean;
  private readonly cipher: TokenCipher;
  private readonly pollIntervalMs: number;
  private readonly logger = new Logger('RedisTokenStore');
  /** Created on the first `waitFor`: a connection in subscriber mode cannot run other commands. */
  private subscriber?: Redis | Cluster;
  /** Wake channels subscribed to: one per token key, i.e. per provider, kept for the store's life. */
  private readonly channels = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private lastFailureAt?: number;
  private closed = false;
  private readonly onReady = () => {
    this.lastFailureAt = undefined;
  };

  constructor(client: Redis | Cluster | RedisConnectionOptions, options: RedisTokenStoreOptions = {}) {
    if (isClient(client)) {
      this.client = client;
      this.ownsClient = false;
    } else {
      this.client = createRedisConnection(client);
      this.ownsClient = true;
      // Outages show in isDegraded() and the service's log; ioredis would print each reconnect failure.
      this.client.on('error', () => undefined);
    }
    this.cipher = new TokenCipher(options);
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.client.on('ready', this.onReady);
  }

  async get(key: string): Promise<AccessToken | undefined> {
    const raw = await this.run(() => this.client.get(key));
    return raw === null ? undefined : this.decode(key, raw);
  }

  async set(key: string, token: AccessToken, ttlMs: number): Promise<void> {
    const value: StoredValue = {
      fp: this.cipher.fingerprints(token.accessToken)[0],
      ...(this.cipher.encrypts ? { sealed: this.cipher.seal(JSON.stringify(token), key) } : { token }),
    };
    await this.run(() => this.client.eval(SET_AND_WAKE, 1, key, JSON.stringify(value), wholeMs(ttlMs), wakeChannel(key)));
  }

  async deleteIfEqual(key: string, accessToken: string): Promise<boolean> {
    const deleted = await this.run(() => this.client.eval(DELETE_IF_FINGERPRINT, 1, key, ...this.cipher.fingerprints(accessToken)));
    return deleted === 1;
  }

  async lock(key: string, ttlMs: number): Promise<TokenLock | undefined> {
    const holder = randomBytes(16).toString('base64url');
    const taken = await this.run(() => this.client.set(lockKey(key), holder, 'PX', wholeMs(ttlMs), 'NX'));
    if (taken !== 'OK') return undefined;
    return {
      release: async () => {
        await this.run(() => this.client.eval(RELEASE_IF_HOLDER, 1, lockKey(key), holder, wakeChannel(key)));
      },
    };
  }

  /**
   * Waits for a token other than `notToken`: woken by pub/sub when one is set, and polling every
   * `pollIntervalMs` in case a message is missed. Also stops as soon as nobody holds the lock any
   * more (the holder gave up, or died and its lock expired): there is nothing left to wait for,
   * and the caller had better renew itself than sit out the whole timeout.
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
        const [raw, holder] = await this.run(() => this.client.mget(key, lockKey(key)));
        const token = raw ? this.decode(key, raw) : undefined;
        const fresh = token && token.accessToken !== notToken ? token : undefined;
        const left = deadline - Date.now();
        if (fresh || holder === null || left <= 0) return fresh;
        await bell.wait(Math.min(this.pollIntervalMs, left));
      }
      return undefined;
    } finally {
      waiting.delete(bell.ring);
      if (waiting.size === 0) this.waiters.delete(channel);
    }
  }

  /** Resolves true once the connection is ready, false if it is not within `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.on('ready', onReady);
    });
  }

  /** Redis not connected, or a command failed or timed out recently (and none succeeded since). */
  isDegraded(): boolean {
    if (this.client.status !== 'ready') return true;
    return this.lastFailureAt !== undefined && Date.now() - this.lastFailureAt < FAILURE_MEMORY_MS;
  }

  /** Closes what the store opened: the subscriber, and the client when the store created it. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.waiters.values()) waiting.forEach((ring) => ring());
    this.client.off('ready', this.onReady);
    this.subscriber?.disconnect();
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
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

  /** An entry this store cannot read (other key, tampered, clear text while encrypting) counts as missing. */
  private decode(key: string, raw: string): AccessToken | undefined {
    let value: Partial<StoredValue>;
    try {
      value = JSON.parse(raw) as Partial<StoredValue>;
    } catch {
      value = {};
    }
    let token: unknown;
    if (this.cipher.encrypts) {
      const json = typeof value.sealed === 'string' ? this.cipher.open(value.sealed, key) : undefined;
      if (json !== undefined) token = JSON.parse(json);
    } else {
      token = value.token;
    }
    if (isAccessToken(token)) return token;
    this.logger.warn(
      `${key}: unreadable entry treated as missing (${this.cipher.encrypts ? 'not sealed with a configured key' : 'encrypted, but no key is configured'})`,
    );
    return undefined;
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      const result = await command();
      this.lastFailureAt = undefined;
      return result;
    } catch (error) {
      this.lastFailureAt = Date.now();
      throw error;
    }
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
const wakeChannel = (key: string) => `${key}:wake`;
/** PX takes whole milliseconds, at least one. */
const wholeMs = (ms: number) => Math.max(1, Math.ceil(ms));

function isClient(value: Redis | Cluster | RedisConnectionOptions): value is Redis | Cluster {
  return typeof (value as Redis).duplicate === 'function';
}

function isAccessToken(value: unknown): value is AccessToken {
  const t = value as Partial<AccessToken> | null | undefined;
  return (
    typeof t?.accessToken === 'string' &&
    typeof t.provider === 'string' &&
    typeof t.tokenType === 'string' &&
    typeof t.expiresAt === 'number' &&
    typeof t.obtainedAt === 'number'
  );
}
