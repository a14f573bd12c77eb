import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import {
  certificateThumbprint,
  clientSecret,
  OIDC_RESOURCE,
  startTlsClientAuthServer,
  type OidcAuthorizationServer,
} from '../../test-support/oidc-authorization-server.js';
import { axiosTokenHttpClient, providerErrorOf } from '../../test-support/strategy-context.js';
import { createTokenService } from '../../test-support/token-service.js';
import { makeTestPki, type TestPki } from '../../test-support/transport-rig.js';
import type { TokenHttpClient, TokenHttpRequest } from '../interfaces/token-strategy.interface.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import { InMemoryTokenStore } from '../stores/in-memory-token.store.js';
import { oauth2 } from './oauth2.strategy.js';

// tls_client_auth (RFC 8705 §2) against node-oidc-provider behind HTTPS asking for a client certificate of a throwaway CA.
let pki: TestPki;
let otherPki: TestPki;
let server: OidcAuthorizationServer;
const introspector = { id: 'resource-server', secret: clientSecret() };

beforeAll(async () => {
  pki = makeTestPki();
  otherPki = makeTestPki();
  server = await startTlsClientAuthServer(pki, { bound: 'mtls-client', other: 'other-subject' }, introspector);
});
afterAll(async () => {
  await server?.close();
  pki?.remove();
  otherPki?.remove();
});

/** One token through a fresh TokenService on the library's axios client, and the requests the strategy built. */
function tokenFor(clientId: string, transport: TokenTransport, resource?: string) {
  const inner = axiosTokenHttpClient();
  const requests: TokenHttpRequest[] = [];
  const http: TokenHttpClient = {
    post: (provider, request, transport) => {
      requests.push(request);
      return inner.post(provider, request, transport);
    },
  };
  const strategy = oauth2({ name: 'idp', tokenUrl: server.tokenUrl, clientId, authMethod: 'tls_client_auth', transport, resource });
  return { requests, token: createTokenService([strategy], {}, new InMemoryTokenStore(), http).getToken('idp') };
}

describe('oauth2 tls_client_auth against node-oidc-provider (client_credentials over mutual TLS)', () => {
  const ownCertificate = () => ({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });

  it('gets a token with the client certificate alone: the body names the client, no secret or assertion is sent', async () => {
    const { token, requests } = tokenFor('mtls-client', ownCertificate());
    const { accessToken } = await token;
    expect(requests).toHaveLength(1);
    expect(requests[0].headers).not.toHaveProperty('authorization');
    expect(Object.fromEntries(new URLSearchParams(requests[0].body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'mtls-client',
    });
    expect(await server.introspect(accessToken, introspector)).toMatchObject({ active: true, client_id: 'mtls-client' });
  });

  it('gets a token bound to the certificate presented (RFC 8705 §3): its cnf carries the certificate thumbprint', async () => {
    const { token } = tokenFor('mtls-client', ownCertificate(), OIDC_RESOURCE);
    expect(decodeJwt((await token).accessToken)).toMatchObject({
      aud: OIDC_RESOURCE,
      client_id: 'mtls-client',
      cnf: { 'x5t#S256': certificateThumbprint(pki.clientCert) },
    });
  });

  it.each<[string, string, () => TokenTransport]>([
    ['a certificate of another CA', 'mtls-client', () => ({ ca: pki.ca, cert: otherPki.clientCert, key: otherPki.clientKey })],
    ['a certificate whose subject is not the registered one', 'other-subject', ownCertificate],
    ['no client certificate at all', 'mtls-client', () => ({ ca: pki.ca })],
  ])('is refused %s: a rejection with invalid_client, no key material in it', async (_what, clientId, transport) => {
    const { token } = tokenFor(clientId, transport());
    const error = await providerErrorOf(token);
    expect(error).toMatchObject({ kind: 'rejected', status: 401, code: 'invalid_client' });
    const everything = JSON.stringify({ ...error, message: error.message, cause: String(error.cause) });
    expect(everything).not.toMatch(/PRIVATE KEY|CERTIFICATE-----/);
    for (const key of [pki.clientKey, otherPki.clientKey]) expect(everything).not.toContain(key.split('\n')[1]);
  });
});
