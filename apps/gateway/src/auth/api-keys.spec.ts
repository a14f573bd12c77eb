import { describe, expect, it } from '@jest/globals';
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
});
