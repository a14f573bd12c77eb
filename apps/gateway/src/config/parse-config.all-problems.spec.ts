import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LATAM, PRIO_WITHOUT_SECRET, problems } from '../../../../test/support/gateway-config.js';

const dir = mkdtempSync(join(tmpdir(), 'all-problems-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PAYME = { PAYME_TOKEN_URL: 'https://payme.example/token', PAYME_API_URL: 'https://payme.example', PAYME_CLIENT_ID: 'c' };
/** The variable each problem line names. */
const named = (lines: string[]) => [...new Set(lines.map((line) => line.slice(0, line.indexOf(':'))))].sort();

describe('every problem in one run', () => {
  it('Pay-me with a password but no audience: PAYME_AUDIENCE and PAYME_USERNAME together', () => {
    expect(named(problems({ ...PAYME, PAYME_CLIENT_SECRET: 's', PAYME_PASSWORD: 'p' }))).toEqual(['PAYME_AUDIENCE', 'PAYME_USERNAME']);
  });

  it('a bad gateway variable does not hide the checks across the others, nor a wrong URL beside a missing variable', () => {
    const lines = problems({ PORT: 'x', TOKEN_MAX_TTL_SECONDS: '10', TOKEN_DEFAULT_TTL_SECONDS: '20', PRIO_TOKEN_URL: 'ftp://x' });
    expect(named(lines)).toEqual([
      'PORT',
      'PRIO_API_URL',
      'PRIO_CLIENT_ID',
      'PRIO_CLIENT_SECRET',
      'PRIO_TOKEN_URL',
      'TOKEN_MAX_TTL_SECONDS',
    ]);
    // A variable with a bad value is not compared with another on its stand-in default.
    expect(problems({ TOKEN_DEFAULT_TTL_SECONDS: 'abc', TOKEN_MAX_TTL_SECONDS: '100', ...LATAM })).toEqual([
      'TOKEN_DEFAULT_TTL_SECONDS: must be a whole number, at least 1',
    ]);
  });

  it('a generic provider: a wrong grant type, a missing private key and a missing user in the same run', () => {
    const idp = { OAUTH_PROVIDERS: 'idp', IDP_TOKEN_URL: 'https://idp/token', IDP_API_URL: 'https://idp', IDP_CLIENT_ID: 'c' };
    const env = { ...idp, IDP_GRANT_TYPE: 'pasword', IDP_AUTH_METHOD: 'private_key_jwt', IDP_SIGNING_ALG: 'none' };
    expect(named(problems(env))).toEqual(['IDP_GRANT_TYPE', 'IDP_PRIVATE_KEY', 'IDP_SIGNING_ALG']);
    expect(named(problems({ ...idp, IDP_CLIENT_SECRET: 's', IDP_GRANT_TYPE: 'password', IDP_AUTH_METHOD: 'x' }))).toEqual([
      'IDP_AUTH_METHOD',
      'IDP_PASSWORD',
      'IDP_USERNAME',
    ]);
  });

  /** Each a valid base's one mistake, on variables no other sets: alone, it gives problem lines naming some variables. */
  const MISTAKES: Array<Record<string, string>> = [
    { PORT: 'eighty' },
    { LOG_LEVEL: 'loud' },
    { SANDBOX: 'maybe' },
    { TOKEN_MAX_TTL_SECONDS: '1' },
    { REDIS_URL: 'http://redis' },
    { KEYS_FILE_SETTLE_MS: 'soon' },
    { OTEL_TRACES_EXPORTER: 'jaeger' },
    { OAUTH_PROVIDERS: 'Bad' },
    { GATEWAY_API_KEYS: 'sha256:12' },
    { TOKEN_ENCRYPTION_PREVIOUS_KEYS: 'short' },
    { ...PAYME, PAYME_CLIENT_SECRET: 's', PAYME_PASSWORD: 'p' },
    { TRANSATEL_TOKEN_URL: 'https://t.example/token', TRANSATEL_API_URL: 'https://t.example/?q', TRANSATEL_CLIENT_ID: 'c' },
    { LATAM_TEST_ENV: 'maybe' },
    { SABRE_CLIENT_ID: 'only-this' },
    { ...PRIO_WITHOUT_SECRET, PRIO_CLIENT_SECRET_FILE: join(dir, 'missing') },
  ];

  it('property: a run with several mistakes reports every variable that each mistake alone reports', () => {
    const base = { ...LATAM, GATEWAY_API_KEYS: 'k' };
    const alone = MISTAKES.map((mistake) => named(problems({ ...base, ...mistake })));
    fc.assert(
      fc.property(
        fc.subarray(
          MISTAKES.map((_, i) => i),
          { minLength: 2 },
        ),
        (chosen) => {
          const together = named(problems(Object.assign({ ...base }, ...chosen.map((i) => MISTAKES[i])) as Record<string, string>));
          for (const i of chosen) expect(together).toEqual(expect.arrayContaining(alone[i]));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('a `_FILE` problem is the only line about its variable', () => {
  const empty = join(dir, 'empty');
  const folder = join(dir, 'folder');
  writeFileSync(empty, '');
  mkdirSync(folder);

  it.each([
    ['missing', join(dir, 'nope')],
    ['empty', empty],
    ['a directory', folder],
  ])('%s: one PRIO_CLIENT_SECRET_FILE line naming the path, no "PRIO_CLIENT_SECRET: missing"', (_what, path) => {
    const lines = problems({ ...PRIO_WITHOUT_SECRET, PRIO_CLIENT_SECRET_FILE: path });
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^PRIO_CLIENT_SECRET_FILE: .*${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)),
    ]);
  });
});
