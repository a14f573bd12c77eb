import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ApiKeys } from './api-keys.js';

describe('ApiKeys', () => {
  const keys = new ApiKeys([
    { key: 'k-ci', providers: new Set(['latam', 'prio']) },
    { key: 'k-ops', providers: '*' },
  ]);

  it('knows a configured key and what it may use', () => {
    const ci = keys.authenticate('k-ci');
    expect(ci?.allows('latam')).toBe(true);
    expect(ci?.allows('sabre')).toBe(false);
    expect(ci?.allowsAll).toBe(false);
    expect(keys.authenticate('k-ops')?.allows('anything')).toBe(true);
  });

  it('refuses missing, empty, repeated, unknown and near-miss keys', () => {
    for (const bad of [undefined, '', ['k-ci', 'k-ci'], 'k-c', 'k-ci ', 'K-CI', 'k-opsx']) {
      expect(keys.authenticate(bad)).toBeUndefined();
    }
  });

  it('tells apart keys that share a prefix, a padding byte or the low byte of every character', () => {
    const tricky = new ApiKeys([
      { key: 'aš', providers: new Set(['latam']) }, // U+0161: its low byte is "a"
      { key: 'clé', providers: new Set(['prio']) },
      { key: 'short', providers: '*' },
    ]);
    expect(tricky.authenticate('aš')?.allows('latam')).toBe(true);
    expect(tricky.authenticate('clé')?.allows('prio')).toBe(true);
    // Header values reach Node as latin1: the UTF-8 bytes of "clé" read as two characters.
    for (const bad of ['aa', 'a\u0161\u0000', 'cl\u00c3\u00a9', 'short\u0000', 'shor', 'shortt']) {
      expect(tricky.authenticate(bad)).toBeUndefined();
    }
  });

  it('accepts exactly the configured keys, whatever they and the presented ones are made of', () => {
    const key = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 });
    fc.assert(
      fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 4 }), fc.array(key, { maxLength: 8 }), (configured, others) => {
        const apiKeys = new ApiKeys(configured.map((k, i) => ({ key: k, providers: new Set([`p${i}`]) })));
        configured.forEach((k, i) => expect(apiKeys.authenticate(k)?.allows(`p${i}`)).toBe(true));
        const nearMisses = configured.flatMap((k) => [k.slice(0, -1), `${k}x`, `x${k}`, k.toUpperCase(), `${k}\u0000`]);
        for (const other of [...others, ...nearMisses]) {
          const index = configured.indexOf(other);
          const caller = apiKeys.authenticate(other);
          if (index === -1) expect(caller).toBeUndefined();
          else expect(caller?.allows(`p${index}`)).toBe(true);
        }
      }),
    );
  });

  it('refuses every key when none is configured', () => {
    expect(new ApiKeys([]).authenticate('anything')).toBeUndefined();
  });
});
