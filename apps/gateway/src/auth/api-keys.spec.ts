import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { keyDigest } from '../config/api-keys.config.js';
import type { ApiKeyEntry } from '../config/gateway-config.js';
import { parseRateLimit } from '../config/rate-limit.policy.js';
import { ApiKeys } from './api-keys.js';

const entry = (name: string, key: string, providers: '*' | string[], rateLimit?: string): ApiKeyEntry => ({
  name,
  digest: keyDigest(key),
  providers: providers === '*' ? '*' : new Set(providers),
  rateLimit: rateLimit === undefined ? undefined : parseRateLimit(rateLimit),
});

describe('ApiKeys', () => {
  const keys = new ApiKeys([entry('ci', 'k-ci', ['latam', 'prio']), entry('ops', 'k-ops', '*', '10/s')]);

  it('knows a configured key by its digest: its name, what it may use and its rate limit', () => {
    const ci = keys.authenticate('k-ci');
    expect(ci?.name).toBe('ci');
    expect(ci?.allows('latam')).toBe(true);
    expect(ci?.allows('sabre')).toBe(false);
    expect(ci?.allowsAll).toBe(false);
    expect(ci?.rateLimit).toBeUndefined();
    const ops = keys.authenticate('k-ops');
    expect(ops?.allows('anything')).toBe(true);
    expect(ops?.rateLimit?.limit).toBe(10);
    expect(ops?.bucket).toBe('gateway:ratelimit:{ops}:10/s');
  });

  it('refuses missing, empty, repeated, unknown and near-miss keys', () => {
    for (const bad of [undefined, '', ['k-ci', 'k-ci'], 'k-c', 'k-ci ', 'K-CI', 'k-opsx']) {
      expect(keys.authenticate(bad)).toBeUndefined();
    }
  });

  it('hashes the UTF-8 bytes of a key: header values reach Node as latin1, so a UTF-8 key sent raw is another key', () => {
    const tricky = new ApiKeys([entry('a', 'aš', ['latam']), entry('b', 'clé', ['prio'])]);
    expect(tricky.authenticate('aš')?.name).toBe('a');
    expect(tricky.authenticate('clé')?.name).toBe('b');
    for (const bad of ['aa', 'a\u0161\u0000', 'cl\u00c3\u00a9']) expect(tricky.authenticate(bad)).toBeUndefined();
  });

  it('accepts exactly the configured keys, whatever they and the presented ones are made of', () => {
    const key = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 });
    fc.assert(
      fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 4 }), fc.array(key, { maxLength: 8 }), (configured, others) => {
        const apiKeys = new ApiKeys(configured.map((k, i) => entry(`k${i}`, k, [`p${i}`])));
        configured.forEach((k, i) => expect(apiKeys.authenticate(k)?.allows(`p${i}`)).toBe(true));
        const nearMisses = configured.flatMap((k) => [k.slice(0, -1), `${k}x`, `x${k}`, k.toUpperCase(), `${k}\u0000`]);
        for (const other of [...others, ...nearMisses]) {
          const index = configured.indexOf(other);
          const caller = apiKeys.authenticate(other);
          if (index === -1) expect(caller).toBeUndefined();
          else expect(caller?.name).toBe(`k${index}`);
        }
      }),
    );
  });

  it('swaps the whole set at once: a caller already authenticated keeps its permissions, new lookups see the new set', () => {
    const swapped = new ApiKeys([entry('ci', 'k-ci', ['latam'])]);
    const before = swapped.authenticate('k-ci')!;
    swapped.replace([entry('ops', 'k-ops', '*')]);
    expect(before.allows('latam')).toBe(true);
    expect(swapped.authenticate('k-ci')).toBeUndefined();
    expect(swapped.authenticate('k-ops')?.name).toBe('ops');
    expect(swapped.size).toBe(1);
  });

  it('refuses every key when none is configured', () => {
    expect(new ApiKeys([]).authenticate('anything')).toBeUndefined();
  });
});
