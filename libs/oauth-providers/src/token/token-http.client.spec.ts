import { afterEach, describe, expect, it } from '@jest/globals';
import { oauth2 } from '../strategies/oauth2.strategy.js';
import { startMisbehavingTokenServer, type MisbehavingTokenServer } from '../../test-support/misbehaving-token-server.js';
import { axiosTokenHttpClient, providerErrorOf, strategyContext } from '../../test-support/strategy-context.js';
import { createTokenService } from '../../test-support/token-service.js';

const request = (url: string) => ({
  url,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: 'grant_type=client_credentials',
});

describe('AxiosTokenHttpClient against a broken token endpoint on loopback', () => {
  let server: MisbehavingTokenServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('aborts an answer that trickles in byte by byte once the timeout has passed, counting the whole attempt', async () => {
    server = await startMisbehavingTokenServer({ kind: 'trickle', everyMs: 50 });
    const error = await providerErrorOf(axiosTokenHttpClient(400).post('acme', request(server.url)));
    expect(error).toMatchObject({ provider: 'acme', kind: 'unavailable', code: 'timeout' });
    expect(error.description).toBe('no complete answer within 400 ms');
  });

  it('describes an answer over the size cap as larger than the cap', async () => {
    server = await startMisbehavingTokenServer({ kind: 'oversize', bytes: 300 * 1024 });
    const error = await providerErrorOf(axiosTokenHttpClient().post('acme', request(server.url)));
    expect(error).toMatchObject({ kind: 'unavailable', description: 'answer larger than 262144 bytes' });
  });

  it('describes a redirect as not followed, without the location', async () => {
    server = await startMisbehavingTokenServer({ kind: 'redirect', status: 307, location: 'http://127.0.0.1:1/elsewhere' });
    const strategy = oauth2({ name: 'acme', tokenUrl: server.url, clientId: 'id', clientSecret: 'secret' });
    const error = await providerErrorOf(strategy.requestToken(strategyContext()));
    expect(error).toMatchObject({ kind: 'invalid_response', status: 307, description: 'redirect to another location (not followed)' });
    expect(server.requests).toBe(1);
  });

  it('counts a timed-out attempt as a failure: retried, then given up with the circuit told', async () => {
    server = await startMisbehavingTokenServer({ kind: 'trickle', everyMs: 50 });
    const strategy = oauth2({ name: 'acme', tokenUrl: server.url, clientId: 'id', clientSecret: 'secret' });
    const tokens = createTokenService(
      [strategy],
      {
        requestTimeoutMs: 300,
        retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, maxTotalMs: 1000 },
        circuitBreaker: { failureThreshold: 2 },
      },
      undefined,
      axiosTokenHttpClient(300),
    );
    const error = await providerErrorOf(tokens.getToken('acme'));
    expect(error).toMatchObject({ kind: 'unavailable', code: 'timeout' });
    expect(server.requests).toBe(2);
    const [status] = tokens.status();
    expect(status).toMatchObject({ provider: 'acme', renewing: false });
    expect(status.circuitOpenUntil).toBeDefined();
    tokens.onApplicationShutdown();
  });
});
