import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitUntil } from '../../../../test/support/helpers.js';
import { makeTestPki, startForwardProxy, type TestPki } from '../../../../libs/oauth-providers/test-support/transport-rig.js';
import {
  issueClientCertificate,
  startRotatingMtlsServer,
  type IssuedCertificate,
  type RotatingMtlsServer,
} from '../../../../libs/oauth-providers/test-support/tls-rotation-rig.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { ProviderTls } from '../config/provider-transport.js';
import { Upstreams, type UpstreamTls } from './upstreams.js';

describe('Upstreams: a rotated client certificate on new connections, the requests in flight finishing on the old ones (real mTLS server)', () => {
  let pki: TestPki;
  let next: IssuedCertificate;
  let server: RotatingMtlsServer;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    next = issueClientCertificate(pki, 'next-client', 'gateway-client-next');
    server = await startRotatingMtlsServer({ cert: pki.serverCert, key: pki.serverKey }, pki.ca, (req, res) => {
      req.resume();
      if (req.url === '/v1/hold') held.push(res);
      else res.writeHead(200).end('now');
    });
  });
  afterAll(async () => {
    await server.close();
    pki.remove();
  });

  it('swaps the pools of the provider whose material changed, and closes the old ones only once their requests are answered', async () => {
    await rotateUnderRequest(undefined);
  });

  it('does the same for a provider behind an egress proxy (undici ProxyAgent, CONNECT)', async () => {
    const proxy = await startForwardProxy();
    try {
      await rotateUnderRequest(proxy.url);
      expect(proxy.requests.filter((r) => r.method === 'CONNECT')).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  async function rotateUnderRequest(apiProxy: string | undefined) {
    server.seen.length = 0;
    let inUse: ProviderTls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const listeners: Array<(provider: string) => void> = [];
    const tls: UpstreamTls = { tls: () => inUse, onChange: (listener) => listeners.push(listener) };
    const providers = [
      { name: 'acme', apiUrl: `https://localhost:${server.port}/v1`, transport: { tls: inUse, apiProxy } },
    ] as GatewayConfig['providers'];
    const upstreams = new Upstreams({ providers, upstreamTimeoutMs: 5000 }, 4, tls);
    try {
      const upstream = upstreams.get('acme')!;
      const before = upstream.pool;
      const inFlight = upstream.pool.request({ method: 'GET', path: '/v1/hold' });
      await waitUntil(() => held.length === 1, 'the request held by the server');

      inUse = { ...inUse, cert: next.cert, key: next.key };
      for (const listener of listeners) listener('acme');
      expect(upstream.pool).not.toBe(before);
      const now = await upstream.pool.request({ method: 'GET', path: '/v1/now' });
      expect(await now.body.text()).toBe('now');
      expect(server.seen.map((c) => `${c.path} ${c.subject}`)).toEqual(['/v1/hold gateway-client', '/v1/now gateway-client-next']);

      held.splice(0).forEach((res) => res.writeHead(200).end('released'));
      const answer = await inFlight;
      expect(answer.statusCode).toBe(200);
      expect(await answer.body.text()).toBe('released');
      // The old pool closed its connection once its request was answered; the new one keeps its own.
      await waitUntil(async () => (await server.connections()) === 1, 'the old connection closed');
      // A proxy's pools are its agent's, outside the statistics.
      expect(upstreams.stats().connected).toBe(apiProxy === undefined ? 1 : 0);
    } finally {
      await upstreams.close();
    }
  }
});
