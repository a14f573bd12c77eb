import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { waitUntil } from '../../../../test/support/helpers.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import { oauth2 } from '../strategies/oauth2.strategy.js';
import { axiosTokenHttpClient, providerErrorOf } from '../../test-support/strategy-context.js';
import { createTokenService } from '../../test-support/token-service.js';
import {
  answerToken,
  requestTokenOver,
  makeTestPki,
  startForwardProxy,
  startMtlsServer,
  type ForwardProxy,
  type MtlsServer,
  type TestPki,
} from '../../test-support/transport-rig.js';
import type { AxiosTokenHttpClient } from './token-http.client.js';

const answer = answerToken('tok-via-transport');

describe('token requests over a private CA, a client certificate and an egress proxy (real servers on loopback)', () => {
  let pki: TestPki;
  let mtls: MtlsServer;
  let plain: Server;
  let plainPort: number;
  const cleanups: Array<() => Promise<void> | void> = [];
  const clients: AxiosTokenHttpClient[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    mtls = await startMtlsServer(pki, answer);
    plain = createServer(answer);
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainPort = (plain.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.onApplicationShutdown()));
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    await mtls.close();
    plain.closeAllConnections();
    await new Promise((resolve) => plain.close(resolve));
    pki.remove();
  });

  const proxy = async (credentials?: string): Promise<ForwardProxy> => {
    const started = await startForwardProxy(credentials);
    cleanups.push(() => started.close());
    return started;
  };
  const client = () => {
    const made = axiosTokenHttpClient(3000);
    clients.push(made);
    return made;
  };
  const mtlsTransport = (): TokenTransport => ({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
  const tokenWith = (tokenUrl: string, transport: TokenTransport | undefined, http = client()) =>
    requestTokenOver(http, tokenUrl, transport);

  it('trusts the private CA in addition to the bundled roots and presents the client certificate', async () => {
    const grant = await tokenWith(`https://localhost:${mtls.port}/token`, mtlsTransport());
    expect(grant.accessToken).toBe('tok-via-transport');
    expect(mtls.clients.at(-1)).toBe('gateway-client');
  });

  it('opens an encrypted client key with its passphrase', async () => {
    const grant = await tokenWith(`https://localhost:${mtls.port}/token`, {
      ca: pki.ca,
      cert: pki.clientCert,
      key: pki.clientKeyEncrypted,
      passphrase: pki.passphrase,
    });
    expect(grant.accessToken).toBe('tok-via-transport');
  });

  it('refuses a server the private CA was not given for: certificate checks stay on', async () => {
    const error = await providerErrorOf(tokenWith(`https://localhost:${mtls.port}/token`, { cert: pki.clientCert, key: pki.clientKey }));
    expect(error).toMatchObject({ kind: 'unavailable', code: 'network_error' });
  });

  it('goes through the TokenService with the strategy transport', async () => {
    const strategy = oauth2({
      name: 'partner',
      tokenUrl: `https://localhost:${mtls.port}/token`,
      clientId: 'id',
      clientSecret: 'secret',
      transport: mtlsTransport(),
    });
    const tokens = createTokenService([strategy], {}, undefined, client());
    await expect(tokens.getToken('partner')).resolves.toMatchObject({ accessToken: 'tok-via-transport' });
    tokens.onApplicationShutdown();
  });

  it('tunnels an https: token URL through the proxy with CONNECT (a host only the proxy resolves)', async () => {
    const forward = await proxy();
    const tokenUrl = `https://token.partner.test:${mtls.port}/token`;
    await expect(tokenWith(tokenUrl, { ...mtlsTransport(), proxy: forward.url })).resolves.toMatchObject({
      accessToken: 'tok-via-transport',
    });
    expect(forward.requests).toEqual([{ method: 'CONNECT', target: `token.partner.test:${mtls.port}`, credentials: false }]);
    const direct = await providerErrorOf(tokenWith(tokenUrl, { ...mtlsTransport(), proxy: 'none' }));
    expect(direct).toMatchObject({ kind: 'unavailable', code: 'network_error' });
  });

  it('sends an http: token URL to the proxy in absolute form', async () => {
    const forward = await proxy();
    const tokenUrl = `http://token.partner.test:${plainPort}/token`;
    await expect(tokenWith(tokenUrl, { proxy: forward.url })).resolves.toMatchObject({ accessToken: 'tok-via-transport' });
    expect(forward.requests).toEqual([{ method: 'POST', target: tokenUrl, credentials: false }]);
  });

  it('sends the URL credentials as Proxy-Authorization, and a 407 without them is the proxy refusing', async () => {
    const forward = await proxy('egress:pr0xy-s3cret');
    const tokenUrl = `https://token.partner.test:${mtls.port}/token`;
    await expect(tokenWith(tokenUrl, { ...mtlsTransport(), proxy: forward.url })).resolves.toMatchObject({
      accessToken: 'tok-via-transport',
    });
    expect(forward.requests.at(-1)).toMatchObject({ method: 'CONNECT', credentials: true });
    const bare = `http://127.0.0.1:${forward.port}`;
    for (const url of [tokenUrl, `http://token.partner.test:${plainPort}/token`]) {
      const refused = await providerErrorOf(tokenWith(url, { ...mtlsTransport(), proxy: bare }));
      expect(refused).toMatchObject({
        kind: 'unavailable',
        code: 'proxy_refused',
        description: `proxy ${bare} refused the request (HTTP 407)`,
      });
    }
  });

  it('never shows the proxy credentials in an error, whatever the failure', async () => {
    const forward = await proxy('egress:right-s3cret');
    const failures = [
      () =>
        tokenWith(`https://token.partner.test:${mtls.port}/token`, {
          ...mtlsTransport(),
          proxy: `http://egress:wr0ng-s3cret@127.0.0.1:${forward.port}`,
        }),
      () => tokenWith(`http://token.partner.test:${plainPort}/token`, { proxy: `http://egress:wr0ng-s3cret@127.0.0.1:${forward.port}` }),
      () =>
        tokenWith(`https://token.partner.test:${mtls.port}/token`, { ...mtlsTransport(), proxy: 'http://egress:wr0ng-s3cret@127.0.0.1:1' }),
    ];
    for (const failure of failures) {
      const error = await providerErrorOf(failure());
      const shown = [error.message, error.description, inspect(error, { depth: 8 }), JSON.stringify(error)].join('\n');
      expect(shown).not.toMatch(/s3cret|egress:/);
    }
  });

  it('names an unreachable proxy without its credentials', async () => {
    const error = await providerErrorOf(
      tokenWith(`https://token.partner.test:${mtls.port}/token`, { ...mtlsTransport(), proxy: 'http://egress:s3cret@127.0.0.1:1' }),
    );
    expect(error).toMatchObject({
      kind: 'unavailable',
      code: 'network_error',
      description: 'proxy http://127.0.0.1:1 unreachable (ECONNREFUSED)',
    });
  });

  it('reports a proxy that cannot reach the token endpoint as refusing', async () => {
    const forward = await proxy();
    const error = await providerErrorOf(tokenWith('https://token.partner.test:1/token', { ...mtlsTransport(), proxy: forward.url }));
    expect(error).toMatchObject({
      kind: 'unavailable',
      code: 'proxy_refused',
      description: `proxy ${forward.url} refused the request (HTTP 500)`,
    });
  });

  it('closes the kept-alive connections of its agents at shutdown', async () => {
    const http = client();
    await tokenWith(`https://localhost:${mtls.port}/token`, mtlsTransport(), http);
    expect(await mtls.connections()).toBeGreaterThan(0);
    await http.onApplicationShutdown();
    await waitUntil(async () => (await mtls.connections()) === 0, 'the token server to see its connections closed');
  });
});

describe('transport options checked when a built-in strategy is built', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki.remove());
  const build = (transport: TokenTransport) =>
    oauth2({ name: 'partner', tokenUrl: 'https://token.example/token', clientId: 'id', clientSecret: 'secret', transport });

  it.each([
    [{ proxy: 'not a url' }, "transport.proxy must be an http: or https: URL, or 'none'"],
    [{ proxy: 'socks5://127.0.0.1:1080' }, "transport.proxy must be an http: or https: URL, or 'none'"],
    [{ cert: 'x' }, 'transport.key goes with transport.key and transport.cert'],
  ])('refuses %j', (transport, message) => {
    expect(() => build(transport)).toThrow(message);
  });

  it('refuses a client key that does not belong to the certificate, without echoing either', () => {
    expect(() => build({ cert: pki.clientCert, key: pki.serverKey })).toThrow(/OAuth provider "partner": transport is not usable \(.*\)$/);
    try {
      build({ cert: pki.clientCert, key: pki.serverKey });
    } catch (error) {
      expect((error as Error).message).not.toContain('PRIVATE KEY');
    }
  });

  it('accepts none, a proxy URL and matching PEM', () => {
    expect(build({ proxy: 'none' }).transport).toEqual({ proxy: 'none' });
    expect(() => build({ proxy: 'http://u:p@proxy:3128', ca: pki.ca, cert: pki.clientCert, key: pki.clientKey })).not.toThrow();
  });
});
