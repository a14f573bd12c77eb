import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { OAuthConfigurationError } from '../errors/oauth-configuration.error.js';
import type { TokenHttpRequest, TokenRequestContext } from '../interfaces/token-strategy.interface.js';
import { clientKeyPair } from '../../test-support/client-keys.js';
import { providerErrorOf } from '../../test-support/strategy-context.js';
import { JWT_BEARER_ASSERTION } from './client-auth.js';
import { oauth2, type OAuth2Options } from './oauth2.strategy.js';

const TOKEN_URL = 'https://auth.example/oauth/token';
const SECRET = 'a-client-secret-long-enough-for-hs256-0123456789';

/** A token endpoint that answers every request with a token and keeps what it was sent. */
function recordingContext(): TokenRequestContext & { requests: TokenHttpRequest[]; form: (i?: number) => URLSearchParams } {
  const requests: TokenHttpRequest[] = [];
  return {
    requests,
    form: (i = 0) => new URLSearchParams(requests[i].body),
    http: {
      post: (_provider, request) => {
        requests.push(request);
        return Promise.resolve({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: '{"access_token":"t","expires_in":60}',
        });
      },
    },
  };
}

const build = (options: Partial<OAuth2Options>) => oauth2({ name: 'idp', tokenUrl: TOKEN_URL, clientId: 'app-1', ...options });

function configurationErrorOf(make: () => unknown): OAuthConfigurationError {
  try {
    make();
  } catch (error) {
    if (error instanceof OAuthConfigurationError) return error;
    throw error;
  }
  throw new Error('expected the options to be refused');
}

describe('client_secret_jwt and private_key_jwt assertions (RFC 7523 §2.2, §3)', () => {
  it('client_secret_jwt: an HS256 assertion with iss = sub = client id, aud = token URL, jti, iat and exp a minute later', async () => {
    const ctx = recordingContext();
    const strategy = build({ authMethod: 'client_secret_jwt', clientSecret: SECRET });
    const before = Math.floor(Date.now() / 1000);
    await strategy.requestToken(ctx);
    await strategy.requestToken(ctx);
    const form = ctx.form();
    expect(ctx.requests[0].headers.authorization).toBeUndefined();
    expect(form.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION);
    expect(form.get('client_id')).toBe('app-1');
    expect(form.get('client_secret')).toBeNull();
    const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion')!, new TextEncoder().encode(SECRET), {
      issuer: 'app-1',
      subject: 'app-1',
      audience: TOKEN_URL,
    });
    expect(protectedHeader).toEqual({ alg: 'HS256' });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.exp! - payload.iat!).toBe(60);
    const second = await jwtVerify(ctx.form(1).get('client_assertion')!, new TextEncoder().encode(SECRET));
    expect(second.payload.jti).not.toBe(payload.jti);
  });

  it.each([
    ['rsa', 'pkcs8', undefined, 'RS256'],
    ['rsa', 'pkcs1', undefined, 'RS256'],
    ['rsa', 'pkcs1', 'PS256', 'PS256'],
    ['P-256', 'sec1', undefined, 'ES256'],
    ['P-256', 'pkcs8', undefined, 'ES256'],
    ['P-384', 'sec1', undefined, 'ES384'],
  ] as const)(
    'private_key_jwt with a %s key in %s, signingAlg %s: signed %s, verifiable with the public key',
    async (kind, encoding, signingAlg, alg) => {
      const pair = clientKeyPair(kind, encoding);
      const ctx = recordingContext();
      await build({ authMethod: 'private_key_jwt', privateKey: pair.privateKeyPem, signingAlg, keyId: 'k1' }).requestToken(ctx);
      const assertion = ctx.form().get('client_assertion')!;
      expect(decodeProtectedHeader(assertion)).toEqual({ alg, kid: 'k1' });
      const { payload } = await jwtVerify(assertion, createPublicKey(pair.privateKeyPem), {
        issuer: 'app-1',
        subject: 'app-1',
        audience: TOKEN_URL,
      });
      expect(typeof payload.jti).toBe('string');
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
      expect(ctx.form().get('client_secret')).toBeNull();
    },
  );

  it('uses assertionAudience as aud when given (a server that wants its issuer)', async () => {
    const ctx = recordingContext();
    await build({ authMethod: 'client_secret_jwt', clientSecret: SECRET, assertionAudience: 'https://auth.example' }).requestToken(ctx);
    await expect(
      jwtVerify(ctx.form().get('client_assertion')!, new TextEncoder().encode(SECRET), { audience: 'https://auth.example' }),
    ).resolves.toBeDefined();
  });

  it('tls_client_auth (RFC 8705 §2) sends client_id in the body and no secret', async () => {
    const ctx = recordingContext();
    await build({ authMethod: 'tls_client_auth' }).requestToken(ctx);
    expect(ctx.requests[0].headers.authorization).toBeUndefined();
    expect([...ctx.form().keys()].sort()).toEqual(['client_id', 'grant_type']);
  });

  it('sends resource (RFC 8707) as a form field', async () => {
    const ctx = recordingContext();
    await build({ clientSecret: SECRET, resource: 'https://api.example/v1' }).requestToken(ctx);
    expect(ctx.form().get('resource')).toBe('https://api.example/v1');
  });
});

describe('identity', () => {
  it('differs with every option that changes the token, and never holds a secret or key', () => {
    const key = clientKeyPair('P-256').privateKeyPem;
    const variants: Array<Partial<OAuth2Options>> = [
      { clientSecret: SECRET },
      { clientSecret: SECRET, scope: 'read' },
      { clientSecret: SECRET, audience: 'https://api' },
      { clientSecret: SECRET, resource: 'https://api.example/' },
      { clientSecret: SECRET, authMethod: 'client_secret_post' },
      { clientSecret: SECRET, clientId: 'app-2' },
      { clientSecret: SECRET, grantType: 'password', username: 'svc', password: SECRET },
      { clientSecret: SECRET, grantType: 'password', username: 'svc-2', password: SECRET },
      { authMethod: 'private_key_jwt', privateKey: key },
    ];
    const identities = variants.map((options) => build(options).identity);
    expect(new Set(identities).size).toBe(variants.length);
    for (const identity of identities) {
      expect(identity).not.toContain(SECRET);
      expect(identity).not.toContain(key.slice(40, 80));
    }
    expect(build({ clientSecret: () => 'rotated' }).identity).toBe(build({ clientSecret: SECRET }).identity);
  });
});

describe('client authentication options are checked when the strategy is built', () => {
  const rsa = clientKeyPair('rsa').privateKeyPem;
  const p256 = clientKeyPair('P-256', 'sec1').privateKeyPem;
  const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
    cipher: 'aes-256-cbc',
    passphrase: 'pw',
  }) as string;
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const publicOnly = createPublicKey(rsa).export({ format: 'pem', type: 'spki' }) as string;

  it.each([
    ['not a PEM', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'privateKey', /is not an unencrypted PEM private key/],
    ['an encrypted key', encrypted, 'privateKey', /is not an unencrypted PEM private key/],
    ['a public key', publicOnly, 'privateKey', /is not an unencrypted PEM private key/],
    ['an RSA key under 2048 bits', small, 'privateKey', /RSA key of 2048 bits or more/],
    ['an Ed25519 key', ed25519, 'privateKey', /EC key on P-256, P-384 or P-521/],
  ])('refuses %s as privateKey, without echoing it', (_what, privateKey, option, message) => {
    const error = configurationErrorOf(() => build({ authMethod: 'private_key_jwt', privateKey }));
    expect(error).toMatchObject({ provider: 'idp', option, message: expect.stringMatching(message) });
    expect(error.message).not.toContain(privateKey.slice(30, 60));
  });

  it.each([
    [rsa, 'ES256'],
    [p256, 'RS256'],
    [p256, 'ES384'],
    [p256, 'HS256'],
  ] as const)('refuses a signingAlg that does not suit the key (%#: %s)', (privateKey, signingAlg) => {
    expect(configurationErrorOf(() => build({ authMethod: 'private_key_jwt', privateKey, signingAlg: signingAlg as never }))).toMatchObject(
      {
        option: 'signingAlg',
      },
    );
  });

  it('needs privateKey for private_key_jwt, clientSecret for the client_secret_* methods, neither for tls_client_auth', () => {
    expect(configurationErrorOf(() => build({ authMethod: 'private_key_jwt' }))).toMatchObject({ option: 'privateKey' });
    for (const authMethod of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'] as const) {
      expect(configurationErrorOf(() => build({ authMethod }))).toMatchObject({ option: 'clientSecret' });
    }
    expect(() => build({ authMethod: 'tls_client_auth' })).not.toThrow();
    expect(() => build({ authMethod: 'private_key_jwt', privateKey: rsa })).not.toThrow();
  });

  it('refuses signingAlg with a method that signs nothing with a key, an empty keyId or assertionAudience, and a bad resource', () => {
    expect(configurationErrorOf(() => build({ clientSecret: SECRET, signingAlg: 'RS256' }))).toMatchObject({ option: 'signingAlg' });
    expect(configurationErrorOf(() => build({ authMethod: 'private_key_jwt', privateKey: rsa, keyId: '' }))).toMatchObject({
      option: 'keyId',
    });
    expect(configurationErrorOf(() => build({ clientSecret: SECRET, assertionAudience: ' ' }))).toMatchObject({
      option: 'assertionAudience',
    });
    for (const resource of ['api', '/v1', 'https://api.example/#x']) {
      expect(configurationErrorOf(() => build({ clientSecret: SECRET, resource }))).toMatchObject({ option: 'resource' });
    }
  });

  it('PEM-shaped garbage is refused when built, and fails the request when read, never echoed (fast-check)', async () => {
    const garbage = fc
      .tuple(fc.constantFrom('PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'), fc.base64String({ minLength: 16, maxLength: 400 }))
      .filter(([, body]) => body.replace(/=+$/, '').length >= 16)
      .map(([label, body]) => ({ body, pem: `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n` }));
    await fc.assert(
      fc.asyncProperty(garbage, async ({ body, pem }) => {
        expect(configurationErrorOf(() => build({ authMethod: 'private_key_jwt', privateKey: pem })).message).not.toContain(body);
        const failure = await providerErrorOf(
          build({ authMethod: 'private_key_jwt', privateKey: () => pem }).requestToken(recordingContext()),
        );
        expect(failure).toMatchObject({ kind: 'unavailable', code: 'credential_unavailable' });
        expect(failure.message).not.toContain(body);
      }),
      { numRuns: 50 },
    );
  });

  it('a private key given as a function is checked when it is read: an unusable one fails that request, naming no key', async () => {
    const strategy = build({ authMethod: 'private_key_jwt', privateKey: () => publicOnly });
    const error = await providerErrorOf(strategy.requestToken(recordingContext()));
    expect(error).toMatchObject({ kind: 'unavailable', code: 'credential_unavailable' });
    expect(error.description).toMatch(/privateKey function's key: privateKey is not an unencrypted PEM/);
    expect(error.message).not.toContain(publicOnly.slice(30, 60));
  });

  it('an ES256 key given as a function signs with ES256 and is parsed again when it changes', async () => {
    let key = p256;
    const strategy = build({ authMethod: 'private_key_jwt', privateKey: () => key });
    const ctx = recordingContext();
    await strategy.requestToken(ctx);
    key = rsa;
    await strategy.requestToken(ctx);
    expect(decodeProtectedHeader(ctx.form(0).get('client_assertion')!).alg).toBe('ES256');
    expect(decodeProtectedHeader(ctx.form(1).get('client_assertion')!).alg).toBe('RS256');
  });
});
