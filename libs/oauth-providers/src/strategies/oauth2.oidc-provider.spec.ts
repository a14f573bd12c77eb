import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { clientKeyPair } from '../../test-support/client-keys.js';
import {
  clientCredentialsClient,
  clientSecret,
  OIDC_RESOURCE,
  startOidcAuthorizationServer,
  type OidcAuthorizationServer,
} from '../../test-support/oidc-authorization-server.js';
import { axiosTokenHttpClient, providerErrorOf } from '../../test-support/strategy-context.js';
import { createTokenService } from '../../test-support/token-service.js';
import { InMemoryTokenStore } from '../stores/in-memory-token.store.js';
import { oauth2, type OAuth2Options } from './oauth2.strategy.js';

// Every client authentication method against node-oidc-provider, through TokenService as an app uses it.
const basicSecret = clientSecret();
const jwtSecret = clientSecret();
const rsa = clientKeyPair('rsa', 'pkcs1', 'rsa-1');
const p256 = clientKeyPair('P-256', 'sec1');
const p384 = clientKeyPair('P-384', 'pkcs8');
const stranger = clientKeyPair('rsa');

let server: OidcAuthorizationServer;
beforeAll(async () => {
  server = await startOidcAuthorizationServer([
    clientCredentialsClient('basic-client', 'client_secret_basic', { client_secret: basicSecret }),
    clientCredentialsClient('post-client', 'client_secret_post', { client_secret: basicSecret }),
    clientCredentialsClient('hs-client', 'client_secret_jwt', { client_secret: jwtSecret }),
    clientCredentialsClient('rsa-client', 'private_key_jwt', { jwks: { keys: [rsa.publicJwk] } }),
    clientCredentialsClient('ec-client', 'private_key_jwt', { jwks: { keys: [p256.publicJwk, p384.publicJwk] } }),
  ]);
});
afterAll(() => server.close());

/** One token through a fresh TokenService on the library's axios client, or the error it ends with. */
async function tokenFor(options: Omit<OAuth2Options, 'name' | 'tokenUrl'>) {
  const strategy = oauth2({ name: 'idp', tokenUrl: server.tokenUrl, ...options });
  const service = createTokenService([strategy], {}, new InMemoryTokenStore(), axiosTokenHttpClient());
  return { service, token: service.getToken('idp') };
}

describe('oauth2 client authentication against node-oidc-provider (client_credentials)', () => {
  it.each<[string, Omit<OAuth2Options, 'name' | 'tokenUrl'>]>([
    ['client_secret_basic', { clientId: 'basic-client', clientSecret: basicSecret }],
    ['client_secret_post', { clientId: 'post-client', clientSecret: basicSecret, authMethod: 'client_secret_post' }],
    ['client_secret_jwt', { clientId: 'hs-client', clientSecret: jwtSecret, authMethod: 'client_secret_jwt' }],
    [
      'private_key_jwt, RSA (PKCS#1), RS256, kid',
      { clientId: 'rsa-client', privateKey: rsa.privateKeyPem, authMethod: 'private_key_jwt', keyId: 'rsa-1' },
    ],
    [
      'private_key_jwt, RSA, PS256',
      { clientId: 'rsa-client', privateKey: rsa.privateKeyPem, authMethod: 'private_key_jwt', signingAlg: 'PS256' },
    ],
    ['private_key_jwt, EC P-256 (SEC1), ES256', { clientId: 'ec-client', privateKey: p256.privateKeyPem, authMethod: 'private_key_jwt' }],
    [
      'private_key_jwt, EC P-384, ES384',
      { clientId: 'ec-client', privateKey: () => Promise.resolve(p384.privateKeyPem), authMethod: 'private_key_jwt' },
    ],
    [
      'client_secret_jwt with the issuer as audience',
      { clientId: 'hs-client', clientSecret: () => jwtSecret, authMethod: 'client_secret_jwt', assertionAudience: 'ISSUER' },
    ],
  ])('gets a token with %s', async (_method, options) => {
    const audience = options.assertionAudience === 'ISSUER' ? server.issuer : undefined;
    const { token } = await tokenFor({ ...options, ...(audience && { assertionAudience: audience }) });
    await expect(token).resolves.toMatchObject({ provider: 'idp', tokenType: 'Bearer', accessToken: expect.any(String) });
  });

  it('sends resource (RFC 8707): the token is issued for that API', async () => {
    const { token } = await tokenFor({ clientId: 'basic-client', clientSecret: basicSecret, resource: OIDC_RESOURCE, scope: 'read' });
    expect(decodeJwt((await token).accessToken)).toMatchObject({ aud: OIDC_RESOURCE, client_id: 'basic-client' });
  });

  it.each<[string, Omit<OAuth2Options, 'name' | 'tokenUrl'>]>([
    ['a wrong client secret (client_secret_jwt)', { clientId: 'hs-client', clientSecret: clientSecret(), authMethod: 'client_secret_jwt' }],
    ['a wrong client secret (client_secret_basic)', { clientId: 'basic-client', clientSecret: clientSecret() }],
    [
      'a key the server does not hold (private_key_jwt)',
      { clientId: 'rsa-client', privateKey: stranger.privateKeyPem, authMethod: 'private_key_jwt' },
    ],
    [
      'an assertion for another audience',
      { clientId: 'hs-client', clientSecret: jwtSecret, authMethod: 'client_secret_jwt', assertionAudience: 'https://elsewhere.example' },
    ],
  ])('is refused the credentials for %s: a rejection with invalid_client', async (_what, options) => {
    const { token } = await tokenFor(options);
    expect(await providerErrorOf(token)).toMatchObject({ kind: 'rejected', status: 401, code: 'invalid_client' });
  });

  it('ends the cool-down as soon as a rotated secret is read: the next call gets a token without waiting', async () => {
    let secret = clientSecret();
    const { service, token } = await tokenFor({ clientId: 'hs-client', clientSecret: () => secret, authMethod: 'client_secret_jwt' });
    expect(await providerErrorOf(token)).toMatchObject({ kind: 'rejected' });
    expect(await providerErrorOf(service.getToken('idp'))).toMatchObject({ kind: 'rejected', retryAfterMs: expect.any(Number) });
    expect(service.status()[0]).toMatchObject({ state: 'cooling_down' });
    secret = jwtSecret;
    await expect(service.getToken('idp')).resolves.toMatchObject({ accessToken: expect.any(String) });
  });
});
