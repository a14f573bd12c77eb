import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAST_RETRY, KEY_ALL } from '../support/gateway-harness.js';
import { GatewayProcess, metric, runGatewayToExit } from '../support/gateway-process.js';
import {
  makeTestPki,
  startForwardProxy,
  startMtlsServer,
  type ForwardProxy,
  type MtlsServer,
  type TestPki,
} from '../../libs/oauth-providers/test-support/transport-rig.js';

const PROXY_CREDENTIALS = 'egress:pr0xy-s3cret';

/** Token endpoint at /token, API everywhere else (echoing the path it got). */
function partnerApi(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url === '/token') res.end(JSON.stringify({ access_token: 'partner-token', token_type: 'Bearer', expires_in: 3600 }));
    else res.end(JSON.stringify({ path: req.url, authorization: req.headers.authorization }));
  });
}

/**
 * A real gateway process reaching partners whose host names only the egress proxy resolves: an
 * mTLS partner behind a private CA through CONNECT, a plain-HTTP partner in absolute form, a
 * NO_PROXY exception, a proxy that cannot reach the API, and a proxy with Basic credentials that
 * must never show in the gateway's output.
 */
describe('egress proxy, private CA and client certificate on a real gateway process', () => {
  let pki: TestPki;
  let mtls: MtlsServer;
  let plain: Server;
  let plainPort: number;
  let proxy: ForwardProxy;
  let gateway: GatewayProcess;

  const get = (path: string) => fetch(`${gateway.url}${path}`, { headers: { 'x-api-key': KEY_ALL } });

  beforeAll(async () => {
    pki = makeTestPki();
    mtls = await startMtlsServer(pki, partnerApi);
    plain = createServer(partnerApi);
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainPort = (plain.address() as AddressInfo).port;
    proxy = await startForwardProxy(PROXY_CREDENTIALS);
    const provider = (name: string, origin: string) => ({
      [`${name}_TOKEN_URL`]: `${origin}/token`,
      [`${name}_API_URL`]: `${origin}/v1`,
      [`${name}_CLIENT_ID`]: `${name.toLowerCase()}-client`,
      [`${name}_CLIENT_SECRET`]: 'client-secret',
    });
    gateway = await GatewayProcess.start(
      {
        GATEWAY_API_KEYS: `${KEY_ALL}:*`,
        SANDBOX: 'false',
        TOKEN_WARM_ON_START: 'false',
        LOG_LEVEL: 'debug',
        OAUTH_PROVIDERS: 'secure,plain,direct,down',
        HTTPS_PROXY: proxy.url,
        HTTP_PROXY: proxy.url,
        NO_PROXY: '127.0.0.1',
        ...provider('SECURE', `https://api.partner.test:${mtls.port}`),
        SECURE_TLS_CA_FILE: pki.paths.ca,
        SECURE_TLS_CERT_FILE: pki.paths.clientCert,
        SECURE_TLS_KEY: pki.clientKeyEncrypted,
        SECURE_TLS_KEY_PASSPHRASE: pki.passphrase,
        ...provider('PLAIN', `http://api.partner.test:${plainPort}`),
        ...provider('DIRECT', `http://127.0.0.1:${plainPort}`),
        ...provider('DOWN', `https://down.partner.test:1`),
        DOWN_TOKEN_URL: `http://token.partner.test:${plainPort}/token`,
      },
      { oauth: { retry: FAST_RETRY } },
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    await proxy?.close();
    await mtls?.close();
    plain?.closeAllConnections();
    await new Promise((resolve) => plain?.close(resolve));
    pki?.remove();
  });

  it('tunnels token and API calls through CONNECT, trusting the private CA and presenting the client certificate', async () => {
    const res = await get('/secure/things?x=1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: '/v1/things?x=1', authorization: 'Bearer partner-token' });
    const connects = proxy.requests.filter((r) => r.method === 'CONNECT').map((r) => r.target);
    expect(connects).toEqual(expect.arrayContaining([`api.partner.test:${mtls.port}`]));
    expect(proxy.requests.every((r) => r.credentials)).toBe(true);
    expect(mtls.clients).toEqual(expect.arrayContaining(['gateway-client']));
    expect(mtls.clients.every((cn) => cn === 'gateway-client')).toBe(true);
  });

  it('sends plain-HTTP token and API calls to the proxy in absolute form', async () => {
    const res = await get('/plain/things');
    expect(res.status).toBe(200);
    const targets = proxy.requests.map((r) => `${r.method} ${r.target}`);
    expect(targets).toEqual(
      expect.arrayContaining([`POST http://api.partner.test:${plainPort}/token`, `GET http://api.partner.test:${plainPort}/v1/things`]),
    );
  });

  it('goes direct to a host NO_PROXY names', async () => {
    const before = proxy.requests.length;
    expect((await get('/direct/things')).status).toBe(200);
    expect(proxy.requests.slice(before)).toEqual([]);
  });

  it('answers 502 upstream_unreachable naming the proxy, without its credentials, when the proxy cannot reach the API', async () => {
    const res = await get('/down/things');
    expect(res.status).toBe(502);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe('upstream_unreachable');
    expect(problem.detail).toBe(`proxy http://127.0.0.1:${proxy.port} refused the tunnel (HTTP 500)`);
  });

  it('exposes the time left of the client certificate', async () => {
    const left = await metric(gateway.url, 'gateway_tls_client_cert_expiry_seconds{provider="secure"}');
    expect(left).toBeGreaterThan(86_400);
    expect(left).toBeLessThanOrEqual(2 * 86_400);
  });

  it('never writes the proxy credentials or the key passphrase', () => {
    expect(gateway.output()).not.toMatch(/pr0xy-s3cret|egress:|test-key-passphrase/);
  });
});

describe('transport start-up problems', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki.remove());

  it('exits 1 with one line for a client key that does not match its certificate and one for a bad proxy URL', async () => {
    const { code, output } = await runGatewayToExit({
      GATEWAY_API_KEYS: `${KEY_ALL}:*`,
      SANDBOX: 'false',
      OAUTH_PROVIDERS: 'secure',
      SECURE_TOKEN_URL: 'https://token.example/token',
      SECURE_API_URL: 'https://api.example/v1',
      SECURE_CLIENT_ID: 'id',
      SECURE_CLIENT_SECRET: 'secret',
      SECURE_TLS_CERT_FILE: pki.paths.clientCert,
      SECURE_TLS_KEY_FILE: pki.paths.serverKey,
      HTTPS_PROXY: 'socks5://user:pr0xy-s3cret@egress:1080',
    });
    expect(code).toBe(1);
    expect(output).toMatch(/SECURE_TLS_KEY: does not match SECURE_TLS_CERT, or cannot be opened \(/);
    expect(output).toContain('HTTPS_PROXY: must be an http:// or https:// URL');
    expect(output).not.toContain('pr0xy-s3cret');
  });
});
