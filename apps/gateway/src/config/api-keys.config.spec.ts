import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { withKeysFile } from './api-keys-file.loader.js';
import { parseApiKeysYaml } from './api-keys-file.parse.js';
import { keyDigest, parseApiKeysEnv } from './api-keys.config.js';
import { parseRateLimit } from './rate-limit.policy.js';
import { ConfigValidationError, parseGatewayConfig } from './parse-config.js';

const KNOWN = new Set(['latam', 'prio', 'sabre']);
/** The parser thread runs the sources, as the gateway's test processes do. */
const PARSER = { execArgv: ['--import', new URL('../../../../libs/oauth-providers/test-support/ts-register.mjs', import.meta.url).href] };
const DIGEST = keyDigest('partner-a-secret-key');

function envKeys(value: string) {
  const problems: string[] = [];
  const keys = parseApiKeysEnv(value, KNOWN, problems);
  return { keys, problems };
}

function fileProblems(text: string): string[] {
  const read = parseApiKeysYaml(text, KNOWN);
  if (read.ok) throw new Error('the file was accepted');
  return read.problems;
}

describe('GATEWAY_API_KEYS', () => {
  it('takes sha256:<64 hex> as a digest, with or without providers, and names entries env-1, env-2...', () => {
    const { keys, problems } = envKeys(`sha256:${DIGEST.toUpperCase()}:latam|prio, sha256:${keyDigest('x')} ,plain-key:*`);
    expect(problems).toEqual([]);
    expect(keys).toEqual([
      { name: 'env-1', digest: DIGEST, providers: new Set(['latam', 'prio']) },
      { name: 'env-2', digest: keyDigest('x'), providers: '*' },
      { name: 'env-3', digest: keyDigest('plain-key'), providers: '*' },
    ]);
  });

  it('refuses a malformed digest and a key given twice, plain and hashed, without echoing either', () => {
    const { problems } = envKeys(`sha256:abc:latam,sha256:${DIGEST}x,partner-a-secret-key,sha256:${DIGEST}:prio`);
    expect(problems).toEqual([
      'GATEWAY_API_KEYS: entry 1: sha256: must be followed by exactly 64 hex digits',
      'GATEWAY_API_KEYS: entry 2: sha256: must be followed by exactly 64 hex digits',
      'GATEWAY_API_KEYS: entry 4: the same key is listed twice',
    ]);
    expect(problems.join('\n')).not.toContain('partner-a');
  });
});

describe('GATEWAY_API_KEYS_FILE', () => {
  it('reads named entries: hashed or plain keys, providers as a list or "*", optional rate limits', () => {
    const read = parseApiKeysYaml(
      [
        'keys:',
        '  - name: partner-a',
        `    key: sha256:${DIGEST}`,
        '    providers: [latam, prio]',
        '    rateLimit: 100/s',
        '  - { name: ops.team_1, key: 0x1e5, providers: "*", rateLimit: 30/m }',
        '  - name: yes',
        '    key: no',
        "    providers: '*'",
      ].join('\n'),
      KNOWN,
    );
    expect(read).toEqual({
      ok: true,
      keys: [
        { name: 'partner-a', digest: DIGEST, providers: new Set(['latam', 'prio']), rateLimit: parseRateLimit('100/s') },
        // YAML 1.1 would have read these as a number and booleans: every scalar stays the string written.
        { name: 'ops.team_1', digest: keyDigest('0x1e5'), providers: '*', rateLimit: parseRateLimit('30/m') },
        { name: 'yes', digest: keyDigest('no'), providers: '*', rateLimit: undefined },
      ],
    });
  });

  it('accepts a file with no keys (nobody may call) and refuses one without a keys: list', () => {
    expect(parseApiKeysYaml('keys: []\n', KNOWN)).toEqual({ ok: true, keys: [] });
    expect(fileProblems('')).toEqual(['GATEWAY_API_KEYS_FILE: must be a mapping with a keys: list']);
    expect(fileProblems('keys: partner-a\n')).toEqual(['GATEWAY_API_KEYS_FILE: keys: must be a list of entries']);
  });

  it('names each bad entry by position, and by name when the name is valid, one line per problem', () => {
    const lines = fileProblems(
      [
        'keys:',
        '  - { name: partner-a, key: sekrit-aaaa-1, providers: [latam, nope], rateLimit: 100/h }',
        '  - { name: Partner B, key: sekrit-bbbb-2, providers: "*" }',
        '  - { name: partner-a, key: sekrit-aaaa-1, providers: latam }',
        '  - { name: c, key: "sha256:12ab", providers: "*", ratelimit: 1/s, sekrit-cccc-3: x }',
        '  - { name: d, key: "two words", providers: [] }',
        '  - just-a-string',
      ].join('\n'),
    );
    expect(lines).toEqual([
      'GATEWAY_API_KEYS_FILE: entry 1 (partner-a): rateLimit: must be N/s or N/m, N a whole number from 1 to 1000000',
      'GATEWAY_API_KEYS_FILE: entry 1 (partner-a): providers: item 2 is not a built-in or OAUTH_PROVIDERS name (or use providers: "*")',
      'GATEWAY_API_KEYS_FILE: entry 2: name: must be 1 to 64 characters among a-z 0-9 . _ -',
      'GATEWAY_API_KEYS_FILE: entry 3 (partner-a): providers: must be "*" or a non-empty list of provider names',
      'GATEWAY_API_KEYS_FILE: entry 4 (c): unknown fields ratelimit (did you mean rateLimit?); the fields are name, key, providers, rateLimit',
      'GATEWAY_API_KEYS_FILE: entry 5 (d): key: is empty or contains spaces',
      'GATEWAY_API_KEYS_FILE: entry 5 (d): providers: must be "*" or a non-empty list of provider names',
      'GATEWAY_API_KEYS_FILE: entry 6: must be a mapping with name, key and providers',
    ]);
    expect(lines.join('\n')).not.toMatch(/sekrit/);
  });

  it('refuses a name or a key used twice, and a malformed digest', () => {
    const lines = fileProblems(
      [
        'keys:',
        `  - { name: a, key: partner-a-secret-key, providers: "*" }`,
        `  - { name: b, key: "sha256:${DIGEST}", providers: "*" }`,
        `  - { name: a, key: other-key-1234, providers: "*" }`,
        `  - { name: c, key: "sha256:${DIGEST.slice(1)}", providers: "*" }`,
      ].join('\n'),
    );
    expect(lines).toEqual([
      'GATEWAY_API_KEYS_FILE: entry 2 (b): key: the same key as entry 1 (a)',
      'GATEWAY_API_KEYS_FILE: entry 3 (a): name: already used by entry 1 (a)',
      'GATEWAY_API_KEYS_FILE: entry 4 (c): key: sha256: must be followed by exactly 64 hex digits',
    ]);
  });

  it('reports a YAML syntax error by line and column, without the source text around it', () => {
    const lines = fileProblems('keys:\n  - name: a\n    key: "sekrit-unterminated\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^GATEWAY_API_KEYS_FILE: not valid YAML at line \d+, column \d+ \([A-Z_]+\)$/);
    expect(lines.join('\n')).not.toContain('sekrit');
  });

  it('never echoes a key, whatever garbage surrounds it', () => {
    const secret = fc.string({ minLength: 8, maxLength: 20 }).map((s) => `sk${s.replace(/\W/g, 'x')}`);
    fc.assert(
      fc.property(secret, fc.constantFrom('name', 'key', 'providers', 'rateLimit', 'extra'), fc.boolean(), (key, field, quote) => {
        const value = quote ? JSON.stringify(key) : key;
        const text = `keys:\n  - { name: "Bad Name", key: ${value}, providers: [${value}], ${field}: ${value}, ${value}: 1 }\n`;
        const read = parseApiKeysYaml(text, KNOWN);
        expect(read.ok).toBe(false);
        if (!read.ok) expect(read.problems.join('\n')).not.toContain(key);
      }),
    );
  });

  it('cannot be combined with GATEWAY_API_KEYS', () => {
    expect(() => parseGatewayConfig({ GATEWAY_API_KEYS: 'k', GATEWAY_API_KEYS_FILE: '/nowhere.yaml' })).toThrow(
      new ConfigValidationError(['GATEWAY_API_KEYS_FILE: cannot be combined with GATEWAY_API_KEYS (keep one source of keys)']),
    );
  });

  describe('at start-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-keys-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const problemsOf = async (file: string) => {
      const error = await withKeysFile(parseGatewayConfig({ GATEWAY_API_KEYS_FILE: file }), PARSER).catch((e: unknown) => e);
      return error instanceof ConfigValidationError ? error.problems : [];
    };

    it('reads the file into the configuration, and remembers it for reloads', async () => {
      const file = join(dir, 'keys.yaml');
      writeFileSync(file, 'keys:\n  - { name: partner-a, key: partner-a-secret-key, providers: [prio] }\n');
      const config = await withKeysFile(parseGatewayConfig({ GATEWAY_API_KEYS_FILE: file }), PARSER);
      expect(config.apiKeysFile).toBe(file);
      expect(config.apiKeys).toEqual([{ name: 'partner-a', digest: DIGEST, providers: new Set(['prio']), rateLimit: undefined }]);
    });

    it('stops start-up on a missing or bad file, with its problems', async () => {
      expect(await problemsOf(join(dir, 'missing.yaml'))).toEqual([
        `GATEWAY_API_KEYS_FILE: cannot be read: ${join(dir, 'missing.yaml')}: ENOENT`,
      ]);
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'keys:\n  - { name: partner-a, key: partner-a-secret-key, providers: [nope] }\n');
      expect(await problemsOf(bad)).toEqual([
        'GATEWAY_API_KEYS_FILE: entry 1 (partner-a): providers: item 1 is not a built-in or OAUTH_PROVIDERS name (or use providers: "*")',
      ]);
    });
  });
});
