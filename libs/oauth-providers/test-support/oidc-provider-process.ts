// node-oidc-provider in an OS process of its own, started by `startOidcAuthorizationServer`
// (oidc-authorization-server.ts) through `node --import ./ts-register.mjs`: the clients come as
// JSON in argv, the issuer goes back over the IPC channel, and SIGTERM ends it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors, type ClientMetadata } from 'oidc-provider';
import { OIDC_RESOURCE } from './oidc-authorization-server.js';

const clients = JSON.parse(process.argv[2]) as ClientMetadata[];
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const provider = new Provider(issuer, {
  clients,
  scopes: ['read'],
  jwks: { keys: [{ ...signing, alg: 'RS256', use: 'sig', kid: 'server' }] },
  cookies: { keys: [randomBytes(16).toString('hex')] },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'ES384'] },
  ttl: { ClientCredentials: 300 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
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
