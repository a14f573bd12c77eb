import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Cluster, Redis } from 'ioredis';
import { freePort } from '../../../../scripts/redis-server.mjs';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { connectRedis, uniqueName, waitUntil } from '../../test-support/redis-test-helpers.js';
import { RedisTokenStore } from './redis-token.store.js';
import { parseEncryptionKey, TokenCipher } from './token-cipher.js';
import type { TokenLock } from './token-store.interface.js';

const describeRedis = process.env.TEST_REDIS_URL ? describe : describe.skip;

const keyA = randomBytes(32);
const keyB = randomBytes(32);

/** A token key as the service builds them, unique to the test. */
const tokenKey = () => `oauth:{${uniqueName('store-spec')}}:${randomBytes(16).toString('hex')}`;

function token(overrides: Partial<AccessToken> = {}): AccessToken {
  const now = Date.now();
  return {
    provider: 'acme',
    accessToken: `at-${randomBytes(16).toString('hex')}`,
    refreshToken: `rt-${randomBytes(16).toString('hex')}`,
    tokenType: 'Bearer',
    obtainedAt: now,
    expiresAt: now + 3_600_000,
    ...overrides,
  };
}

describe('TokenCipher', () => {
  it('accepts a 32-byte key as hex, base64, base64url or bytes', () => {
    for (const form of [keyA.toString('hex'), keyA.toString('base64'), keyA.toString('base64url'), keyA]) {
      expect(parseEncryptionKey(form).equals(keyA)).toBe(true);
    }
  });

  it('refuses a key of another length without echoing it', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => parseEncryptionKey(short)).toThrow(/32 bytes .*16 bytes/);
    expect(() => parseEncryptionKey(short)).not.toThrow(short);
    expect(() => parseEncryptionKey('not a key!')).toThrow(/32 bytes/);
  });

  it('opens only under the context it was sealed for', () => {
    const cipher = new TokenCipher({ encryptionKey: keyA });
    const sealed = cipher.seal('secret', 'oauth:{a}:1');
    expect(cipher.open(sealed, 'oauth:{a}:1')).toBe('secret');
    expect(cipher.open(sealed, 'oauth:{b}:1')).toBeUndefined();
  });
});

describeRedis('RedisTokenStore', () => {
  let redis: Redis | Cluster;
  let store: RedisTokenStore;
  const stores: RedisTokenStore[] = [];
  const storeWith = (options: ConstructorParameters<typeof RedisTokenStore>[1]) => {
    const s = new RedisTokenStore(redis, options);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    redis = await connectRedis(process.env.TEST_REDIS_URL!);
    store = storeWith({ encryptionKey: keyA });
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis.quit();
  });

  describe('contract', () => {
    it('reads back what it stored, until the TTL passes', async () => {
      const key = tokenKey();
      const t = token();
      await store.set(key, t, 300);
      expect(await store.get(key)).toEqual(t);
      expect(await redis.pttl(key)).toBeLessThanOrEqual(300);
      await waitUntil(async () => (await store.get(key)) === undefined, 'the entry to expire', 5000);
    });

    it('deleteIfEqual deletes only the token it was given', async () => {
      const key = tokenKey();
      const t = token();
      await store.set(key, t, 60_000);
      expect(await store.deleteIfEqual(key, 'another-token')).toBe(false);
      expect(await store.get(key)).toEqual(t);
      expect(await store.deleteIfEqual(key, t.accessToken)).toBe(true);
      expect(await store.get(key)).toBeUndefined();
      expect(await store.deleteIfEqual(key, t.accessToken)).toBe(false);
    });

    it('lock is exclusive, expires, and is released only by its holder', async () => {
      const key = tokenKey();
      const first = await store.lock(key, 200);
      expect(first).toBeDefined();
      expect(await store.lock(key, 10_000)).toBeUndefined();

      let second: TokenLock | undefined;
      await waitUntil(async () => (second = await store.lock(key, 10_000)) !== undefined, 'the first lock to expire', 5000);
      await first!.release(); // expired: must not free the second holder's lock
      expect(await store.lock(key, 10_000)).toBeUndefined();

      await second!.release();
      expect(await store.lock(key, 10_000)).toBeDefined();
    });

    it('waitFor wakes on set through pub/sub, not by polling', async () => {
      const key = tokenKey();
      const waiter = storeWith({ encryptionKey: keyA, pollIntervalMs: 60_000 });
      await store.lock(key, 10_000);
      const started = Date.now();
      const waiting = waiter.waitFor(key, 20_000);
      await waitUntil(async () => (await numSub(redis, `${key}:wake`)) > 0, 'the waiter to subscribe');
      const t = token();
      await store.set(key, t, 60_000);
      expect(await waiting).toEqual(t);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('waitFor keeps waiting while the entry holds the token being replaced', async () => {
      const key = tokenKey();
      const old = token();
      const fresh = token();
      await store.set(key, old, 60_000);
      await store.lock(key, 10_000);
      const waiting = store.waitFor(key, 20_000, old.accessToken);
      await waitUntil(async () => (await numSub(redis, `${key}:wake`)) > 0, 'the waiter to subscribe');
      await store.set(key, fresh, 60_000);
      expect(await waiting).toEqual(fresh);
    });

    it('waitFor gives up at its timeout while the lock is held', async () => {
      const key = tokenKey();
      await store.lock(key, 10_000);
      const started = Date.now();
      expect(await store.waitFor(key, 300)).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('waitFor stops as soon as the holder releases without a token', async () => {
      const key = tokenKey();
      const waiter = storeWith({ encryptionKey: keyA, pollIntervalMs: 60_000 });
      const lock = await store.lock(key, 10_000);
      const waiting = waiter.waitFor(key, 20_000);
      await waitUntil(async () => (await numSub(redis, `${key}:wake`)) > 0, 'the waiter to subscribe');
      const released = Date.now();
      await lock!.release();
      expect(await waiting).toBeUndefined();
      expect(Date.now() - released).toBeLessThan(5000);
    });

    it('waitFor stops once the lock of a holder that died expires', async () => {
      const key = tokenKey();
      await store.lock(key, 300); // never released
      const started = Date.now();
      expect(await store.waitFor(key, 20_000)).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  describe('encryption at rest', () => {
    it('never writes the access token or the refresh token in clear', async () => {
      const key = tokenKey();
      const t = token();
      await store.set(key, t, 60_000);
      const raw = (await redis.get(key))!;
      expect(raw).not.toContain(t.accessToken);
      expect(raw).not.toContain(t.refreshToken);
      expect(raw).not.toContain(createHash('sha256').update(t.accessToken).digest('base64url'));
      expect(Object.keys(JSON.parse(raw)).sort()).toEqual(['fp', 'sealed']);
    });

    it('reads with the key given in any accepted form', async () => {
      const key = tokenKey();
      const t = token();
      await store.set(key, t, 60_000);
      expect(await storeWith({ encryptionKey: keyA.toString('hex') }).get(key)).toEqual(t);
      expect(await storeWith({ encryptionKey: keyA.toString('base64') }).get(key)).toEqual(t);
    });

    it('after a key rotation, still reads and matches entries sealed with the previous key', async () => {
      const key = tokenKey();
      const t = token();
      await store.set(key, t, 60_000);
      const rotated = storeWith({ encryptionKey: keyB, previousKeys: [keyA] });
      expect(await rotated.get(key)).toEqual(t);
      expect(await rotated.deleteIfEqual(key, t.accessToken)).toBe(true);

      const next = token();
      await rotated.set(key, next, 60_000);
      expect(await rotated.get(key)).toEqual(next);
      expect(await store.get(key)).toBeUndefined(); // an instance still on the old key only
    });

    it('treats an entry it cannot open as missing: wrong key, tampered, or clear text', async () => {
      const key = tokenKey();
      await store.set(key, token(), 60_000);
      expect(await storeWith({ encryptionKey: keyB }).get(key)).toBeUndefined();
      expect(await storeWith({}).get(key)).toBeUndefined();

      const value = JSON.parse((await redis.get(key))!) as { sealed: string };
      const flipped = value.sealed.slice(0, -2) + (value.sealed.endsWith('AA') ? 'BB' : 'AA');
      await redis.set(key, JSON.stringify({ ...value, sealed: flipped }), 'PX', 60_000);
      expect(await store.get(key)).toBeUndefined();

      await storeWith({}).set(key, token(), 60_000);
      expect(await store.get(key)).toBeUndefined();
      await redis.set(key, 'not json', 'PX', 60_000);
      expect(await store.get(key)).toBeUndefined();
    });

    it('without a key, stores plain JSON (the gateway refuses that in production)', async () => {
      const key = tokenKey();
      const t = token();
      const plain = storeWith({});
      await plain.set(key, t, 60_000);
      expect(JSON.parse((await redis.get(key))!).token).toEqual(t);
      expect(await plain.get(key)).toEqual(t);
      expect(await plain.deleteIfEqual(key, t.accessToken)).toBe(true);
    });
  });

  describe('connections', () => {
    it('fails fast and reports degraded when Redis is not there', async () => {
      const absent = new RedisTokenStore({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 200 });
      const started = Date.now();
      await expect(absent.get(tokenKey())).rejects.toThrow();
      await expect(absent.lock(tokenKey(), 1000)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(absent.isDegraded()).toBe(true);
      await absent.close();
    });

    it('close() closes its subscriber and leaves the caller\'s client open', async () => {
      const key = tokenKey();
      const own = new RedisTokenStore(redis, { encryptionKey: keyA });
      await store.lock(key, 10_000);
      const waiting = own.waitFor(key, 20_000);
      await waitUntil(async () => (await numSub(redis, `${key}:wake`)) > 0, 'the waiter to subscribe');
      await own.close();
      expect(await waiting).toBeUndefined();
      await waitUntil(async () => (await numSub(redis, `${key}:wake`)) === 0, 'the subscriber to close');
      expect(redis.status).toBe('ready');
      expect(own.isDegraded()).toBe(false);
    });
  });
});

async function numSub(redis: Redis | Cluster, channel: string): Promise<number> {
  const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
  return Number(count);
}
