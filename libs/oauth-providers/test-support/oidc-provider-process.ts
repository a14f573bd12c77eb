// node-oidc-provider in an OS process of its own, started by `startOidcAuthorizationServer`
// (oidc-authorization-server.ts) through `node --import ./ts-register.mjs`: the clients come as
// JSON in argv, then optionally the PEM files of an HTTPS listener; the issuer goes back over the
// IPC channel, and SIGTERM ends it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Provider, { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { OIDC_RESOURCE, type OidcServerTls } from './oidc-authorization-server.js';

const clients = JSON.parse(process.argv[2]) as ClientMetadata[];
const tls = process.argv[3] === undefined ? undefined : (JSON.parse(process.argv[3]) as OidcServerTls);
// A client certificate is asked for but not required by TLS, so that the provider (not the handshake) refuses a wrong one with invalid_client.
const server = tls
  ? createHttpsServer({
      ca: readFileSync(tls.ca),
      cert: readFileSync(tls.cert),
      key: readFileSync(tls.key),
      requestCert: true,
      rejectUnauthorized: false,
    })
  : createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const peer = (ctx: KoaContextWithOIDC) => ctx.req.socket as TLSSocket;
/** RFC 8705 §2.1 over the listener's own TLS: the peer certificate, verified against the CA, its subject as an RFC 4514 string. */
const mTLS: NonNullable<Configuration['features']>['mTLS'] = {
  enabled: true,
  tlsClientAuth: true,
  certificateBoundAccessTokens: true,
  getCertificate: (ctx) => peer(ctx).getPeerX509Certificate(),
  certificateAuthorized: (ctx) => peer(ctx).authorized,
  // Node writes the subject most significant first, one attribute a line; RFC 4514 lists them the other way round.
  certificateSubjectMatches: (ctx, property, expected) =>
    property === 'tls_client_auth_subject_dn' && peer(ctx).getPeerX509Certificate()?.subject.split('\n').reverse().join(',') === expected,
};

const provider = new Provider(issuer, {
  clients,
  scopes: ['read'],
  jwks: { keys: [{ ...signing, alg: 'RS256', use: 'sig', kid: 'server' }] },
  cookies: { keys: [randomBytes(16).toString('hex')] },
  clientAuthMethods: [
    'client_secret_basic',
    'client_secret_post',
    'client_secret_jwt',
    'private_key_jwt',
    ...(tls ? (['tls_client_auth'] as const) : []),
  ],
  enabledJWA: { clientAuthSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'ES384'] },
  ttl: { ClientCredentials: 300 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    ...(tls && { mTLS }),
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => Promise.resolve(oneOf),
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== OIDC_RESOURCE) throw new errors.InvalidTarget();
        return Promise.resolve({ scope: 'read', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 300 });
      },
    },
  },
});
const handle = provider.callback();
server.on('request', (req, res) => void handle(req, res));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
process.send!({ issuer });
