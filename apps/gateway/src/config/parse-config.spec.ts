import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseEncryptionKey } from '@oauth-gateway/oauth-providers/redis';
import { keyDigest } from './api-keys.config.js';
import { oauthOptions } from './oauth-options.js';
import { parseGatewayConfig } from './parse-config.js';
import { LATAM, problems } from '../../../../test/support/gateway-config.js';

describe('parseGatewayConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseGatewayConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1', // a sandbox (no provider configured) listens on the loopback; see sandbox.spec.ts
      apiKeys: [],
      tokens: {
        refreshSkewSeconds: 60,
        requestTimeoutMs: 10_000,
        defaultTtlSeconds: 3600,
        maxTtlSeconds: 604_800,
        rejectedCooldownSeconds: 30,
      },
      upstreamTimeoutMs: 30_000,
      maxInflightPerProvider: 1024,
      shutdownTimeoutMs: 10_000,
      maxBodyBytes: 10_485_760,
      logLevel: 'info',
      sandbox: 'auto',
      providers: [],
      redis: undefined,
    });
  });

  it('enables a built-in provider when all its variables are set, empty values counting as unset', () => {
    const config = parseGatewayConfig({ ...LATAM, LATAM_TEST_ENV: 'true', PRIO_SCOPE: '', SABRE_USERNAME: '' });
    expect(config.providers).toEqual([
      {
        ...{ name: 'latam', kind: 'latam', testEnvironment: true },
        tokenUrl: LATAM.LATAM_TOKEN_URL,
        apiUrl: 'https://api.latampass.com/v1',
        clientId: 'latam-app',
        clientSecret: 'latam-secret-value',
      },
    ]);
  });

  it('names every missing variable of a partly configured provider', () => {
    expect(problems({ LATAM_TOKEN_URL: LATAM.LATAM_TOKEN_URL, LATAM_CLIENT_ID: 'x', SABRE_PASSWORD: 'p' })).toEqual([
      expect.stringMatching(/^LATAM_API_URL: missing/),
      expect.stringMatching(/^LATAM_CLIENT_SECRET: missing/),
      expect.stringMatching(/^SABRE_TOKEN_URL: missing/),
      expect.stringMatching(/^SABRE_API_URL: missing/),
      expect.stringMatching(/^SABRE_CLIENT_ID: missing/),
      expect.stringMatching(/^SABRE_CLIENT_SECRET: missing/),
      expect.stringMatching(/^SABRE_USERNAME: missing/),
    ]);
  });

  it('reads Pay-me with the password grant or client credentials, never half of each', () => {
    const payme = {
      PAYME_TOKEN_URL: 'https://auth.alignet.io/token',
      PAYME_API_URL: 'https://api.alignet.io',
      PAYME_CLIENT_ID: 'c',
      PAYME_CLIENT_SECRET: 's',
      PAYME_AUDIENCE: 'https://api.dev.alignet.io',
    };
    expect(parseGatewayConfig(payme).providers[0]).toMatchObject({ kind: 'payme', username: undefined, password: undefined });
    expect(parseGatewayConfig({ ...payme, PAYME_USERNAME: 'u', PAYME_PASSWORD: 'p' }).providers[0]).toMatchObject({
      username: 'u',
      password: 'p',
    });
    expect(problems({ ...payme, PAYME_USERNAME: 'u' })).toEqual([expect.stringMatching(/^PAYME_PASSWORD: missing/)]);
  });

  it('reads generic providers from OAUTH_PROVIDERS', () => {
    const config = parseGatewayConfig({
      OAUTH_PROVIDERS: 'my-idp',
      MY_IDP_TOKEN_URL: 'https://idp.example/token',
      MY_IDP_API_URL: 'https://api.example',
      MY_IDP_CLIENT_ID: 'id',
      MY_IDP_CLIENT_SECRET: 'secret',
      MY_IDP_GRANT_TYPE: 'password',
      MY_IDP_USERNAME: 'u',
      MY_IDP_PASSWORD: 'p',
      MY_IDP_AUTH_METHOD: 'client_secret_post',
      MY_IDP_SCOPE: 'read',
    });
    expect(config.providers).toEqual([
      expect.objectContaining({
        name: 'my-idp',
        kind: 'oauth2',
        grantType: 'password',
        authMethod: 'client_secret_post',
        username: 'u',
        password: 'p',
        scope: 'read',
      }),
    ]);
    expect(config.knownProviders.has('my-idp')).toBe(true);
  });

  it('refuses bad generic provider names and settings', () => {
    expect(problems({ OAUTH_PROVIDERS: 'Bad,latam,health,ok,ok' })).toEqual([
      'OAUTH_PROVIDERS: "Bad" is not a valid name (lowercase [a-z][a-z0-9-]*)',
      'OAUTH_PROVIDERS: "latam" clashes with a built-in or reserved name',
      'OAUTH_PROVIDERS: "health" clashes with a built-in or reserved name',
      'OAUTH_PROVIDERS: "ok" is listed twice',
      expect.stringMatching(/^OK_TOKEN_URL: missing \(ok is listed in OAUTH_PROVIDERS/),
      expect.stringMatching(/^OK_API_URL: missing/),
      expect.stringMatching(/^OK_CLIENT_ID: missing/),
      expect.stringMatching(/^OK_CLIENT_SECRET: missing/),
    ]);
    const base = {
      OAUTH_PROVIDERS: 'idp',
      IDP_TOKEN_URL: 'https://i/t',
      IDP_API_URL: 'https://i',
      IDP_CLIENT_ID: 'a',
      IDP_CLIENT_SECRET: 'b',
    };
    expect(problems({ ...base, IDP_GRANT_TYPE: 'implicit' })).toEqual(['IDP_GRANT_TYPE: must be client_credentials or password']);
    expect(problems({ ...base, IDP_GRANT_TYPE: 'password' })).toEqual([
      'IDP_USERNAME: missing (required by IDP_GRANT_TYPE=password)',
      'IDP_PASSWORD: missing (required by IDP_GRANT_TYPE=password)',
    ]);
    expect(problems({ ...base, IDP_AUTH_METHOD: 'none' })).toEqual([
      'IDP_AUTH_METHOD: must be one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth',
    ]);
    expect(problems({ ...base, IDP_AUTH_METHOD: 'private_key_jwt' })).toEqual([
      'IDP_PRIVATE_KEY: missing (required by IDP_AUTH_METHOD=private_key_jwt; or IDP_PRIVATE_KEY_FILE)',
    ]);
    expect(problems({ ...base, IDP_AUTH_METHOD: 'private_key_jwt', IDP_PRIVATE_KEY: 'not a key' })).toEqual([
      'IDP_PRIVATE_KEY: is not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)',
    ]);
  });

  it('parses GATEWAY_API_KEYS entries, a bare key meaning every provider', () => {
    const { apiKeys } = parseGatewayConfig({ ...LATAM, GATEWAY_API_KEYS: 'k-ci:latam|prio, k-ops:*,k-bare' });
    expect(apiKeys).toEqual([
      { name: 'env-1', digest: keyDigest('k-ci'), providers: new Set(['latam', 'prio']) },
      { name: 'env-2', digest: keyDigest('k-ops'), providers: '*' },
      { name: 'env-3', digest: keyDigest('k-bare'), providers: '*' },
    ]);
  });

  it('refuses bad GATEWAY_API_KEYS entries without printing any key', () => {
    const lines = problems({ GATEWAY_API_KEYS: 'sekrit-one:latam|nope,sekrit-one,:*,sekrit-two:' });
    expect(lines).toEqual([
      'GATEWAY_API_KEYS: entry 1: providers must be * or built-in / OAUTH_PROVIDERS names joined by |',
      'GATEWAY_API_KEYS: entry 2: the same key is listed twice',
      'GATEWAY_API_KEYS: entry 3: the key is empty or contains spaces',
      'GATEWAY_API_KEYS: entry 4: providers must be * or built-in / OAUTH_PROVIDERS names joined by |',
    ]);
    expect(lines.join('\n')).not.toContain('sekrit');
  });

  it('reads TOKEN_MIN_INTERVAL_MS (0 to 60000, default 1000) and TOKEN_MAX_BYTES (default 16384) into the OAuth options', () => {
    const defaults = parseGatewayConfig({});
    expect(defaults.tokens).toMatchObject({ minRequestIntervalMs: 1000, maxTokenBytes: 16_384 });
    const set = parseGatewayConfig({ TOKEN_MIN_INTERVAL_MS: '0', TOKEN_MAX_BYTES: '4096' });
    expect(oauthOptions(set)).toMatchObject({ minRequestIntervalMs: 0, maxTokenBytes: 4096 });
    expect(problems({ TOKEN_MIN_INTERVAL_MS: '60001', TOKEN_MAX_BYTES: '0' })).toEqual([
      'TOKEN_MIN_INTERVAL_MS: must be at most 60000',
      'TOKEN_MAX_BYTES: must be at least 1',
    ]);
    expect(problems({ TOKEN_MIN_INTERVAL_MS: '-1' })).toEqual(['TOKEN_MIN_INTERVAL_MS: must be a whole number between 0 and 60000']);
  });

  it('reports every bad gateway variable at once, one line each, naming it', () => {
    expect(
      problems({
        PORT: '80a',
        TOKEN_REFRESH_SKEW_SECONDS: '-1',
        MAX_BODY_BYTES: '0',
        SHUTDOWN_TIMEOUT_MS: '700000',
        LOG_LEVEL: 'verbose',
        SANDBOX: 'yes',
        LATAM_TOKEN_URL: 'ftp://x',
        LATAM_API_URL: 'https://u:p@api.example?x=1',
        LATAM_CLIENT_ID: 'a',
        LATAM_CLIENT_SECRET: 'b',
      }),
    ).toEqual([
      'PORT: must be a whole number between 0 and 65535',
      'TOKEN_REFRESH_SKEW_SECONDS: must be a whole number, at least 0',
      'SHUTDOWN_TIMEOUT_MS: must be at most 600000',
      'MAX_BODY_BYTES: must be at least 1',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace',
      'SANDBOX: must be true, false or auto',
      'LATAM_TOKEN_URL: must be an absolute http(s) URL',
      'LATAM_API_URL: must not carry credentials (use the *_CLIENT_ID / *_CLIENT_SECRET variables)',
    ]);
  });

  describe('Redis and TOKEN_ENCRYPTION_KEY', () => {
    const key = Buffer.alloc(32, 7);

    it('accepts a 32-byte key in hex, base64 or base64url', () => {
      for (const written of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
        expect(parseGatewayConfig({ TOKEN_ENCRYPTION_KEY: written }).tokenEncryptionKey).toEqual(key);
      }
    });

    it('refuses a key of another length or encoding, without printing it', () => {
      for (const bad of ['short-secret-key', Buffer.alloc(16).toString('hex'), Buffer.alloc(31, 1).toString('base64'), 'g'.repeat(64)]) {
        const lines = problems({ TOKEN_ENCRYPTION_KEY: bad });
        expect(lines).toEqual(['TOKEN_ENCRYPTION_KEY: must be 32 bytes, base64 or hex encoded']);
      }
    });

    it('reads retired keys for a rotation, and refuses bad ones or ones without a current key, without printing them', () => {
      const old = Buffer.alloc(32, 1);
      const older = Buffer.alloc(32, 2);
      const config = parseGatewayConfig({
        TOKEN_ENCRYPTION_KEY: key.toString('hex'),
        TOKEN_ENCRYPTION_PREVIOUS_KEYS: `${old.toString('base64')}, ${older.toString('hex')}`,
      });
      expect(config.tokenPreviousKeys).toEqual([old, older]);
      const leaked = 'not-a-key-but-secret';
      expect(
        problems({ TOKEN_ENCRYPTION_KEY: key.toString('hex'), TOKEN_ENCRYPTION_PREVIOUS_KEYS: `${old.toString('hex')},${leaked}` }),
      ).toEqual(['TOKEN_ENCRYPTION_PREVIOUS_KEYS: must be comma-separated keys of 32 bytes each, base64 or hex encoded']);
      expect(problems({ TOKEN_ENCRYPTION_PREVIOUS_KEYS: old.toString('hex') })).toEqual([
        'TOKEN_ENCRYPTION_PREVIOUS_KEYS: needs TOKEN_ENCRYPTION_KEY (the key that seals new entries)',
      ]);
    });

    it('refuses REDIS_URL without a key in production, and accepts it elsewhere', () => {
      expect(problems({ ...LATAM, NODE_ENV: 'production', GATEWAY_API_KEYS: 'k', REDIS_URL: 'redis://127.0.0.1:6379/0' })).toEqual([
        expect.stringMatching(/^TOKEN_ENCRYPTION_KEY: required when Redis is configured and NODE_ENV=production/),
      ]);
      expect(parseGatewayConfig({ REDIS_URL: 'redis://127.0.0.1:6379/0' }).redis).toEqual({ url: 'redis://127.0.0.1:6379/0' });
      expect(
        parseGatewayConfig({
          ...LATAM,
          NODE_ENV: 'production',
          GATEWAY_API_KEYS: 'k',
          REDIS_URL: 'rediss://r:6380',
          TOKEN_ENCRYPTION_KEY: key.toString('hex'),
        }).production,
      ).toBe(true);
    });

    it("regression: TOKEN_ENCRYPTION_KEY was decoded by rules of its own, not the library's: it now accepts exactly the keys the library reads", () => {
      const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
      const written = fc.oneof(
        fc
          .tuple(bytes(30, 34), fc.constantFrom('hex', 'base64', 'base64url'), fc.constantFrom('', '=', '=='))
          .map(([b, encoding, padding]) => b.toString(encoding as BufferEncoding).replace(/=+$/, '') + padding),
        fc.string({ minLength: 1, maxLength: 70 }),
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF+/_-='), minLength: 40, maxLength: 66 }),
      );
      fc.assert(
        fc.property(
          written.filter((v) => v.trim() !== '' && !v.includes(',')),
          (value) => {
            let expected: Buffer | undefined;
            try {
              expected = parseEncryptionKey(value);
            } catch {
              expected = undefined;
            }
            if (expected === undefined) {
              expect(problems({ TOKEN_ENCRYPTION_KEY: value })).toEqual(['TOKEN_ENCRYPTION_KEY: must be 32 bytes, base64 or hex encoded']);
              expect(problems({ TOKEN_ENCRYPTION_KEY: key.toString('hex'), TOKEN_ENCRYPTION_PREVIOUS_KEYS: value })).toEqual([
                'TOKEN_ENCRYPTION_PREVIOUS_KEYS: must be comma-separated keys of 32 bytes each, base64 or hex encoded',
              ]);
            } else {
              expect(parseGatewayConfig({ TOKEN_ENCRYPTION_KEY: value }).tokenEncryptionKey).toEqual(expected);
              expect(parseGatewayConfig({ TOKEN_ENCRYPTION_KEY: value, TOKEN_ENCRYPTION_PREVIOUS_KEYS: value }).tokenPreviousKeys).toEqual([
                expected,
              ]);
            }
          },
        ),
        // The edges a second decoder would be most likely to read differently: a last character with bits 32 bytes cannot have, padding.
        { examples: [[`${key.toString('base64url').slice(0, -1)}B`], [`${key.toString('base64url')}==`], [`${key.toString('base64')}=`]] },
      );
    });

    it('reads cluster and sentinel topologies and refuses broken ones', () => {
      expect(parseGatewayConfig({ REDIS_CLUSTER_NODES: 'r1:7000, r2:7001,[::1]:7002' }).redis?.clusterNodes).toEqual([
        { host: 'r1', port: 7000 },
        { host: 'r2', port: 7001 },
        { host: '::1', port: 7002 },
      ]);
      expect(parseGatewayConfig({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'mymaster' }).redis).toMatchObject({
        sentinels: [{ host: 's1', port: 26379 }],
        sentinelName: 'mymaster',
      });
      expect(problems({ REDIS_URL: 'http://x', REDIS_CLUSTER_NODES: 'r1' })).toEqual([
        'REDIS_URL: must be a redis:// or rediss:// URL',
        'REDIS_CLUSTER_NODES: must be a comma-separated list of host:port',
      ]);
      for (const broken of ['::1:7002', '[r1]:7000', '[::1]', 'r1:70000', '[::1]:']) {
        expect(problems({ REDIS_CLUSTER_NODES: broken })).toEqual(['REDIS_CLUSTER_NODES: must be a comma-separated list of host:port']);
      }
      expect(problems({ REDIS_CLUSTER_NODES: 'r1:1', REDIS_SENTINELS: 's1:2' })).toEqual([
        'REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS (pick one Redis topology)',
        'REDIS_SENTINEL_NAME: required when REDIS_SENTINELS is set',
      ]);
    });
  });

  it('never prints a secret value, whatever is wrong', () => {
    const secret = 'S3cr3t-Value-Never-Printed';
    const lines = problems({
      LATAM_CLIENT_SECRET: secret,
      SABRE_PASSWORD: secret,
      TOKEN_ENCRYPTION_KEY: secret,
      REDIS_URL: `redis://:${secret}@`,
      GATEWAY_API_KEYS: `${secret}:${secret}`,
    });
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.join('\n')).not.toContain(secret);
  });
});
