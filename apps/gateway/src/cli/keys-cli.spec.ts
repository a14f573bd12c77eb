import { describe, expect, it } from '@jest/globals';
import { parseApiKeysYaml } from '../config/api-keys-file.parse.js';
import { keyDigest } from '../config/api-keys.config.js';
import { ApiKeys } from '../auth/api-keys.js';
import { KEYS_USAGE, runKeysCli } from './keys-cli.js';

function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runKeysCli(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

describe('npm run keys', () => {
  it('prints a new key once, then the entry with its SHA-256, which the gateway accepts for that key', () => {
    const { code, out, err } = run(['new', 'partner-a', '--providers', 'latam,prio', '--rate-limit', '100/s']);
    expect(code).toBe(0);
    const [key, ...entry] = out;
    expect(key).toMatch(/^gwk_[A-Za-z0-9_-]{43}$/);
    expect(entry).toEqual([
      '  - name: partner-a',
      `    key: sha256:${keyDigest(key)}`,
      '    providers: [latam, prio]',
      '    rateLimit: 100/s',
    ]);
    expect(entry.join('\n')).not.toContain(key);
    expect(err).toContain('will not be shown again');
    expect(err).not.toContain(key);

    const read = parseApiKeysYaml(`keys:\n${entry.join('\n')}\n`, new Set(['latam', 'prio']));
    expect(read.ok).toBe(true);
    const caller = new ApiKeys(read.ok ? read.keys : []).authenticate(key);
    expect(caller).toMatchObject({ name: 'partner-a', rateLimit: { text: '100/s' } });
    expect(caller?.allows('prio')).toBe(true);
    expect(caller?.allows('sabre')).toBe(false);
  });

  it('makes a different key every time, allowed every provider by default and OAUTH_PROVIDERS names too', () => {
    const a = run(['new', 'a']);
    const b = run(['new', 'b', '--providers', 'acme'], { OAUTH_PROVIDERS: 'acme' });
    expect(a.out[0]).not.toBe(b.out[0]);
    expect(a.out.slice(1)).toEqual(['  - name: a', `    key: sha256:${keyDigest(a.out[0])}`, '    providers: "*"']);
    expect(b.out[3]).toBe('    providers: [acme]');
  });

  it('answers a wrong command line with the usage on stderr, exit 2 and nothing on stdout', () => {
    for (const argv of [
      [],
      ['new'],
      ['make', 'a'],
      ['new', 'Partner A'],
      ['new', 'a', 'b'],
      ['new', 'a', '--providers', 'nope'],
      ['new', 'a', '--rate-limit', '5/h'],
      ['new', 'a', '--bogus'],
    ]) {
      const { code, out, err } = run(argv);
      expect({ argv, code, out }).toEqual({ argv, code: 2, out: [] });
      expect(err).toContain(KEYS_USAGE);
    }
  });
});
