import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuthProviderError } from '../src/errors/oauth-provider.error.js';
import type { TokenGrant } from '../src/interfaces/access-token.interface.js';
import type { TokenStrategy } from '../src/interfaces/token-strategy.interface.js';

export interface CountingTokenServer {
  /** The token endpoint, on loopback. */
  readonly url: string;
  /** Token requests answered so far, every instance and process included. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * A real token endpoint on loopback that counts what it is asked: the cluster tests assert on
 * this count, seen from outside every TokenService. Each answer is a new random token (and
 * refresh token), after `delayMs` so that concurrent renewals overlap.
 */
export async function startCountingTokenServer(options: { delayMs?: number; expiresIn?: number } = {}): Promise<CountingTokenServer> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const n = ++requests;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            access_token: `at-${n}-${randomBytes(12).toString('hex')}`,
            refresh_token: `rt-${n}-${randomBytes(12).toString('hex')}`,
            token_type: 'bearer',
            expires_in: options.expiresIn ?? 3600,
          }),
        );
      }, options.delayMs ?? 0);
    });
  });
  const url = await listenForTokens(server);
  return {
    url,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections(); // fetch keeps connections alive
        server.close(() => resolve());
      }),
  };
}

/** A client_credentials strategy for the counting token server (no refresh grant: every renewal counts once). */
export function countingStrategy(tokenUrl: string, name = 'counted'): TokenStrategy {
  return {
    name,
    identity: `${tokenUrl}|cluster-test-client|client_credentials|`,
    async requestToken(ctx): Promise<TokenGrant> {
      const res = await ctx.http.post(name, {
        url: tokenUrl,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      if (res.status !== 200) throw new OAuthProviderError({ provider: name, kind: 'unavailable', status: res.status });
      const body = JSON.parse(res.body) as { access_token: string; token_type: string; expires_in: number; refresh_token: string };
      return { accessToken: body.access_token, tokenType: body.token_type, expiresIn: body.expires_in, refreshToken: body.refresh_token };
    },
  };
}

/** Listens on a free loopback port; resolves to the token endpoint's URL there. */
export async function listenForTokens(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`;
}
