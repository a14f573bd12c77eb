import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expectNoSecretIn, KEY_ALL } from '../support/gateway-harness.js';
import { GatewayProcess } from '../support/gateway-process.js';
import {
  certificateThumbprint,
  clientSecret,
  startTlsClientAuthServer,
  type OidcAuthorizationServer,
} from '../../libs/oauth-providers/test-support/oidc-authorization-server.js';
import { makeTestPki, startMtlsServer, type MtlsServer, type TestPki } from '../../libs/oauth-providers/test-support/transport-rig.js';

/** The partner API: it records the bearer token of each call, which the test then shows the authorization server. */
const seenTokens: string[] = [];
function partnerApi(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    seenTokens.push(req.headers.authorization?.replace(/^Bearer /, '') ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  });
}

/**
 * A real gateway process configured by variables alone for `tls_client_auth` (RFC 8705 §2): its
 * client certificate gets a token from node-oidc-provider over mutual TLS, and the same certificate
 * carries the proxied call to an API that requires it.
 */
describe('tls_client_auth against node-oidc-provider on a real gateway process', () => {
  let pki: TestPki;
  let server: OidcAuthorizationServer;
  let api: MtlsServer;
  const gateways: GatewayProcess[] = [];
  const introspector = { id: 'resource-server', secret: clientSecret() };

  /** A gateway whose one provider `idp` authenticates as `clientId` with the test CA's client certificate. */
  const startGateway = async (clientId: string) => {
    const gateway = await GatewayProcess.start({
      GATEWAY_API_KEYS: `${KEY_ALL}:*`,
      SANDBOX: 'false',
      TOKEN_WARM_ON_START: 'false',
      OAUTH_PROVIDERS: 'idp',
      IDP_AUTH_METHOD: 'tls_client_auth',
      IDP_CLIENT_ID: clientId,
      IDP_TOKEN_URL: server.tokenUrl,
      IDP_API_URL: `https://127.0.0.1:${api.port}/v1`,
      IDP_TLS_CA_FILE: pki.paths.ca,
      IDP_TLS_CERT_FILE: pki.paths.clientCert,
      IDP_TLS_KEY_FILE: pki.paths.clientKey,
    });
    gateways.push(gateway);
    return gateway;
  };
  const get = (gateway: GatewayProcess, path: string) => fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': KEY_ALL } });

  beforeAll(async () => {
    pki = makeTestPki();
    server = await startTlsClientAuthServer(pki, { bound: 'gateway', other: 'someone-else' }, introspector);
    api = await startMtlsServer(pki, partnerApi);
  });
  afterAll(async () => {
    for (const gateway of gateways) await gateway.stop();
    await api?.close();
    await server?.close();
    pki?.remove();
  });

  it("proxies a call with the provider's token, bound to the certificate the gateway presented to the API", async () => {
    const gateway = await startGateway('gateway');
    const res = await get(gateway, '/idp/things?x=1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: '/v1/things?x=1' });
    expect(seenTokens).toHaveLength(1);
    expect(await server.introspect(seenTokens[0], introspector)).toMatchObject({
      active: true,
      client_id: 'gateway',
      token_type: 'Bearer',
      cnf: { 'x5t#S256': certificateThumbprint(pki.clientCert) },
    });
    expect(api.clients).toEqual(['gateway-client']);
  });

  it('answers 502 token_rejected when the server refuses the certificate for that client, without reaching the API', async () => {
    const gateway = await startGateway('someone-else');
    const before = seenTokens.length;
    const res = await get(gateway, '/idp/things');
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'token_rejected', provider: 'idp', detail: 'client authentication failed' });
    expect(seenTokens).toHaveLength(before);
    expectNoSecretIn(gateway.output(), [pki.clientKey.split('\n')[1], 'PRIVATE KEY']);
  });
});
