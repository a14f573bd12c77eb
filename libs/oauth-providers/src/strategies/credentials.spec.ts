import { describe, expect, it } from '@jest/globals';
import type { TokenHttpRequest, TokenRequestContext } from '../interfaces/token-strategy.interface.js';
import { decodeBasic, providerErrorOf } from '../../test-support/strategy-context.js';
import { latamPass, oauth2, payme, prio, sabre, transatel } from './index.js';
import { credentialsFingerprint, readCredential, type Credential } from './strategy-options.js';

const SECRET = 'rotating-s3cret';

function recordingContext(): TokenRequestContext & { requests: TokenHttpRequest[] } {
  const requests: TokenHttpRequest[] = [];
  const body = JSON.stringify({ access_token: 't', expires_in: 60, success: true, authorization: { meta: { status: { code: '00' } } } });
  return {
    requests,
    http: {
      post: (_provider, request) => {
        requests.push(request);
        return Promise.resolve({ status: 200, headers: { 'content-type': 'application/json' }, body });
      },
    },
  };
}

const client = { tokenUrl: 'https://auth.example/token', clientId: 'app-1' };

/** Each built-in strategy with its secret (and password, where it has one) given as `credential`. */
const STRATEGIES = [
  ['latam', (c: Credential) => latamPass({ ...client, clientSecret: c })],
  ['transatel', (c: Credential) => transatel({ ...client, clientSecret: c })],
  ['prio', (c: Credential) => prio({ ...client, clientSecret: c })],
  ['sabre', (c: Credential) => sabre({ ...client, clientSecret: c, username: 'epr', password: c })],
  ['payme', (c: Credential) => payme({ ...client, clientSecret: c, audience: 'https://api', username: 'me', password: c })],
  ['oauth2', (c: Credential) => oauth2({ ...client, name: 'oauth2', clientSecret: c, grantType: 'password', username: 'me', password: c })],
] as const;

/** The secret as it arrived: in a Basic header or as a body field. */
function sentSecrets(request: TokenHttpRequest): string[] {
  const basic = request.headers.authorization ? [decodeURIComponent(decodeBasic(request.headers.authorization).split(':')[1])] : [];
  const fields = request.body.startsWith('{')
    ? (JSON.parse(request.body) as Record<string, string>)
    : Object.fromEntries(new URLSearchParams(request.body));
  return [...basic, ...[fields.client_secret, fields.password].filter((v) => v !== undefined)];
}

describe('credentials given as functions, read at each token request', () => {
  describe.each(STRATEGIES)('%s', (_name, build) => {
    it('reads a sync function at each request: a rotated value goes out on the next one', async () => {
      let value = 'first-secret';
      const strategy = build(() => value);
      const ctx = recordingContext();
      await strategy.requestToken(ctx);
      value = 'second-secret';
      await strategy.requestToken(ctx);
      expect(new Set(sentSecrets(ctx.requests[0]))).toEqual(new Set(['first-secret']));
      expect(new Set(sentSecrets(ctx.requests[1]))).toEqual(new Set(['second-secret']));
    });

    it('awaits an async function', async () => {
      const ctx = recordingContext();
      await build(() => Promise.resolve(SECRET)).requestToken(ctx);
      expect(new Set(sentSecrets(ctx.requests[0]))).toEqual(new Set([SECRET]));
    });

    it.each([
      [
        'throws',
        () => () => {
          throw new Error(`vault said no for ${SECRET}`);
        },
        /function threw \(Error\)/,
      ],
      ['rejects', () => () => Promise.reject(new TypeError(SECRET)), /function threw \(TypeError\)/],
      ['returns an empty value', () => () => '', /function returned no value/],
      ['returns blanks', () => () => '  ', /function returned no value/],
      ['returns a non-string', () => (() => 42) as never, /function returned no value/],
    ])('fails that request, sending nothing, when the function %s (no secret echoed)', async (_what, make, message) => {
      const ctx = recordingContext();
      const error = await providerErrorOf(build(make()).requestToken(ctx));
      expect(error).toMatchObject({ kind: 'unavailable', code: 'credential_unavailable', description: expect.stringMatching(message) });
      expect(error.message).not.toContain(SECRET);
      expect(ctx.requests).toHaveLength(0);
    });

    it('exposes a fingerprint of its credentials that follows a rotation and holds no secret', async () => {
      let value = SECRET;
      const strategy = build(() => value);
      const first = await strategy.credentialsFingerprint();
      expect(await strategy.credentialsFingerprint()).toBe(first);
      value = 'rotated';
      expect(await strategy.credentialsFingerprint()).not.toBe(first);
      expect(first).toMatch(/^[0-9a-f]{64}$/);
    });
  });
});

describe('readCredential and credentialsFingerprint', () => {
  it('returns a string as it is, and the value a function gives', async () => {
    await expect(readCredential('p', 'clientSecret', SECRET)).resolves.toBe(SECRET);
    await expect(readCredential('p', 'clientSecret', () => Promise.resolve(SECRET))).resolves.toBe(SECRET);
  });

  it('gives up on a function that never settles, as credential_unavailable, and fingerprints it as unreadable', async () => {
    const never = () => new Promise<string>(() => undefined);
    const error = await providerErrorOf(readCredential('p', 'clientSecret', never, 20));
    expect(error).toMatchObject({
      kind: 'unavailable',
      code: 'credential_unavailable',
      description: 'the clientSecret function gave no value within 20 ms',
    });
    expect(await credentialsFingerprint([never], 20)).toBe(await credentialsFingerprint([() => Promise.reject(new Error('x'))]));
  });

  it('tells which parts changed apart, never throws, and keeps adjacent parts from running together', async () => {
    const throwing = () => {
      throw new Error('down');
    };
    await expect(credentialsFingerprint([throwing, undefined])).resolves.toMatch(/^[0-9a-f]{64}$/);
    expect(await credentialsFingerprint(['ab', 'c'])).not.toBe(await credentialsFingerprint(['a', 'bc']));
    expect(await credentialsFingerprint(['a', undefined])).not.toBe(await credentialsFingerprint([undefined, 'a']));
    expect(await credentialsFingerprint([() => 'x'])).toBe(await credentialsFingerprint(['x']));
  });
});
