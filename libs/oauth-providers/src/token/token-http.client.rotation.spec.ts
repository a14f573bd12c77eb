import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { waitUntil } from '../../../../test/support/helpers.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import { oauth2 } from '../strategies/oauth2.strategy.js';
import { axiosTokenHttpClient, providerErrorOf } from '../../test-support/strategy-context.js';
import { answerToken, makeTestPki, requestTokenOver, type TestPki } from '../../test-support/transport-rig.js';
import {
  issueClientCertificate,
  startRotatingMtlsServer,
  type IssuedCertificate,
  type RotatingMtlsServer,
} from '../../test-support/tls-rotation-rig.js';
import type { AxiosTokenHttpClient } from './token-http.client.js';

const answer = answerToken('tok');

describe('transport material given as functions: read at each token request, agents rebuilt when it changes (real mTLS server)', () => {
  let pki: TestPki;
  let server: RotatingMtlsServer;
  let next: IssuedCertificate;
  let http: AxiosTokenHttpClient;
  /** What the functions hand out now; a test swaps it as a rotation would. */
  let material: { cert: string; key: string };

  beforeAll(async () => {
    pki = makeTestPki();
    next = issueClientCertificate(pki, 'next-client', 'gateway-client-next');
    server = await startRotatingMtlsServer({ cert: pki.serverCert, key: pki.serverKey }, pki.ca, answer);
  });
  afterEach(async () => {
    await http?.onApplicationShutdown();
  });
  afterAll(async () => {
    await server.close();
    pki.remove();
  });

  const transport = (): TokenTransport => ({ ca: () => pki.ca, cert: () => material.cert, key: () => Promise.resolve(material.key) });
  const tokenWith = (value: TokenTransport) => requestTokenOver(http, `https://localhost:${server.port}/token`, value);

  it('keeps its agents and connection while the material reads the same, and presents the new certificate on a new connection once it changes', async () => {
    http = axiosTokenHttpClient(3000);
    material = { cert: pki.clientCert, key: pki.clientKey };
    const handshakes = server.handshakes();
    await tokenWith(transport());
    // The same values as new strings (a file read again): compared by value, no new agents.
    material = { cert: `${pki.clientCert}`, key: pki.clientKey.slice(0) };
    await tokenWith(transport());
    expect(server.handshakes() - handshakes).toBe(1);
    expect(server.seen.slice(-2).map((c) => c.subject)).toEqual(['gateway-client', 'gateway-client']);

    material = { cert: next.cert, key: next.key };
    await tokenWith(transport());
    expect(server.seen.at(-1)).toMatchObject({ subject: 'gateway-client-next', serial: next.serial });
    expect(server.handshakes() - handshakes).toBe(2);
    // The old agents' idle socket is closed: only the new connection stays open.
    await waitUntil(async () => (await server.connections()) === 1, 'the old kept-alive connection closed');
  });

  it('fails a request whose material does not make a usable pair as unavailable, and serves the next good one', async () => {
    http = axiosTokenHttpClient(3000);
    material = { cert: next.cert, key: pki.clientKey };
    const error = await providerErrorOf(tokenWith(transport()));
    expect(error).toMatchObject({ kind: 'unavailable', code: 'transport_unusable' });
    expect(error.description).toMatch(/^the transport material read is not usable \(.+\)$/);
    expect(`${error.message} ${error.description}`).not.toContain('PRIVATE KEY');
    material = { cert: next.cert, key: next.key };
    await expect(tokenWith(transport())).resolves.toMatchObject({ accessToken: 'tok' });
    expect(server.seen.at(-1)?.serial).toBe(next.serial);
  });

  it('fails a request whose material function throws or returns nothing as credential_unavailable, without its message', async () => {
    http = axiosTokenHttpClient(3000);
    material = { cert: pki.clientCert, key: pki.clientKey };
    const throwing = await providerErrorOf(
      tokenWith({
        ...transport(),
        key: () => {
          throw new Error('secret-path-/run/key');
        },
      }),
    );
    expect(throwing).toMatchObject({ kind: 'unavailable', code: 'credential_unavailable' });
    expect(throwing.description).toBe('the transport.key function threw (Error)');
    const empty = await providerErrorOf(tokenWith({ ...transport(), cert: () => '' }));
    expect(empty.description).toBe('the transport.cert function returned no value');
  });
});

describe('transport material functions when a strategy is built', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki.remove());
  const build = (transport: TokenTransport) =>
    oauth2({ name: 'partner', tokenUrl: 'https://token.example/token', clientId: 'id', clientSecret: 'secret', transport });

  it('counts the client certificate in the credentials fingerprint, so that a rotated one ends a rejection cool-down', async () => {
    let cert = pki.clientCert;
    const strategy = oauth2({
      name: 'partner',
      tokenUrl: 'https://token.example/token',
      clientId: 'id',
      authMethod: 'tls_client_auth',
      transport: { cert: () => cert, key: () => pki.clientKey },
    });
    const before = await strategy.credentialsFingerprint();
    expect(await strategy.credentialsFingerprint()).toBe(before);
    cert = `${pki.clientCert}\n`;
    expect(await strategy.credentialsFingerprint()).not.toBe(before);
  });

  it('accepts functions without calling them, and still checks what is given as strings', () => {
    let calls = 0;
    const counted = (value: string) => () => (calls++, value);
    expect(() => build({ ca: counted(pki.ca), cert: counted(pki.clientCert), key: counted(pki.serverKey) })).not.toThrow();
    expect(() => build({ ca: pki.ca, cert: counted(pki.clientCert), key: pki.clientKey })).not.toThrow();
    expect(calls).toBe(0);
    expect(() => build({ ca: counted(pki.ca), cert: pki.clientCert, key: pki.serverKey })).toThrow(/transport is not usable/);
    expect(() => build({ cert: counted(pki.clientCert) })).toThrow('transport.key goes with transport.key and transport.cert');
    expect(() => build({ cert: 42 as unknown as string, key: pki.clientKey })).toThrow(
      'transport.cert must be a string or a function that returns one',
    );
  });
});
