import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { logClientErrors, RedisCommandHealth } from './redis-command.health.js';
import { createRedisConnection, type RedisConnectionOptions } from './redis-connection.js';
import { RedisRenewalLock, wakeChannel, wholeMs } from './redis-renewal.lock.js';
import { RedisTokenCodec } from './redis-token.codec.js';
import type { TokenEncryptionKey } from './token-cipher.js';
import type { TokenLock, TokenStore } from './token-store.interface.js';

/** What `new RedisTokenStore()` takes besides its connection: the keys that encrypt tokens at rest, and how often it looks at Redis. */
export interface RedisTokenStoreOptions {
  /** 32 bytes (hex, base64 or a Buffer) that encrypt every token (AES-256-GCM). Unset: clear JSON. */
  encryptionKey?: TokenEncryptionKey;
  /** Keys retired by a rotation: entries they wrote are still read until they expire. */
  previousKeys?: TokenEncryptionKey[];
  /** How often `waitFor` looks at Redis between pub/sub wake-ups (default 100 ms). */
  pollIntervalMs?: number;
  /** How often an idle store looks at Redis, so that a fault shows while every token is valid (default 1000 ms; 0: never). */
  heartbeatMs?: number;
}

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

/**
 * Tokens shared by every gateway instance through Redis (single server, Cluster or Sentinel),
 * encrypted at rest, with a cluster-wide renewal lock (`RedisRenewalLock`). Every key of one token
 * (`<key>`, `<key>:lock`) carries the service's `{provider}` hash tag, so they live in one Cluster slot.
 *
 * Pass a client (it stays the caller's) or connection options (the store creates the client and
 * `close()` quits it). Either way, build it like `createRedisConnection` does: commands that fail
 * fast when Redis is away are what let the service fall back to its local copy without waiting.
 */
export class RedisTokenStore implements TokenStore {
  readonly shared = true;
  private readonly client: Redis | Cluster;
  private readonly ownsClient: boolean;
  private readonly codec: RedisTokenCodec;
  private readonly renewal: RedisRenewalLock;
  /** Whether Redis answers the store's commands: its log lines, timeouts and `isDegraded()`. */
  readonly health: RedisCommandHealth;
  /** Token keys used so far, one per provider: what the heartbeat looks at. */
  private readonly keys = new Set<string>();
  private readonly heartbeatMs: number;
  private readonly heartbeat?: NodeJS.Timeout;

  constructor(client: Redis | Cluster | RedisConnectionOptions, options: RedisTokenStoreOptions = {}) {
    if (isClient(client)) {
      this.client = client;
      this.ownsClient = false;
    } else {
      this.client = createRedisConnection(client);
      this.ownsClient = true;
      logClientErrors(this.client, new Logger('RedisTokenStore'));
    }
    this.health = new RedisCommandHealth('token_store', this.client, new Logger('RedisTokenStore'));
    this.codec = new RedisTokenCodec(options);
    this.renewal = new RedisRenewalLock(this.client, {
      run: (command) => this.run(command),
      decode: (key, raw) => this.codec.decode(key, raw),
      pollIntervalMs: options.pollIntervalMs ?? 100,
    });
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    if (this.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => void this.look(), this.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  async get(key: string): Promise<AccessToken | undefined> {
    this.keys.add(key);
    const raw = await this.run(() => this.client.get(key));
    return raw === null ? undefined : this.codec.decode(key, raw);
  }

  async set(key: string, token: AccessToken, ttlMs: number): Promise<void> {
    const value = this.codec.encode(key, token);
    await this.run(() => this.client.eval(SET_AND_WAKE, 1, key, value, wholeMs(ttlMs), wakeChannel(key)));
  }

  async deleteIfEqual(key: string, accessToken: string): Promise<boolean> {
    const deleted = await this.run(() => this.client.eval(DELETE_IF_FINGERPRINT, 1, key, ...this.codec.fingerprints(accessToken)));
    return deleted === 1;
  }

  lock(key: string, ttlMs: number): Promise<TokenLock | undefined> {
    return this.renewal.lock(key, ttlMs);
  }

  /**
   * Waits for a token other than `notToken`: woken by pub/sub when one is set, and polling every
   * `pollIntervalMs` in case a message is missed; stops as soon as nobody holds the lock any more.
   */
  waitFor(key: string, timeoutMs: number, notToken?: string): Promise<AccessToken | undefined> {
    return this.renewal.waitFor(key, timeoutMs, notToken);
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

  /** Redis not connected, or its last command failed or timed out (and none succeeded since). */
  isDegraded(): boolean {
    return this.health.isDegraded();
  }

  /** Closes what the store opened: the lock's subscriber, and the client when the store created it. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.renewal.close();
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    return this.health.run(command);
  }

  /** When no command ran for a while: reads where the tokens live (each in its Cluster slot), or pings. */
  private async look(): Promise<void> {
    if (Date.now() - (this.health.lastOutcomeAt ?? 0) < this.heartbeatMs || this.client.status === 'end') return;
    const probes: Array<() => Promise<unknown>> = this.keys.size
      ? [...this.keys].map((key) => () => this.client.pttl(key))
      : [() => this.client.ping()];
    await Promise.all(probes.map((probe) => this.run(probe).catch(() => undefined)));
  }
}

function isClient(value: Redis | Cluster | RedisConnectionOptions): value is Redis | Cluster {
  return typeof (value as Redis).duplicate === 'function';
}
