// Whether the library gets tokens without ever resolving `jose`: run by client-auth.jose-free.spec.ts
// through `node --import ./ts-register.mjs`, with a module hook that refuses `jose` registered before
// the library is imported. argv[2] is `secrets` (every method that signs nothing) or `jwt`.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(
    "export async function resolve(s, c, next) { if (s === 'jose' || s.startsWith('jose/')) throw new Error('jose was loaded'); return next(s, c); }",
  )}`,
);

const { startCountingTokenServer } = await import('./counting-token-server.js');
const { strategyContext } = await import('./strategy-context.js');
const { latamPass, oauth2, payme, prio, sabre, transatel } = await import('../src/strategies/index.js');

const server = await startCountingTokenServer();
const client = { tokenUrl: server.url, clientId: 'app', clientSecret: 'secret-long-enough-for-hs256-0123456789abcdef' };
const strategies =
  process.argv[2] === 'jwt'
    ? [oauth2({ ...client, name: 'jwt', authMethod: 'client_secret_jwt' })]
    : [
        oauth2({ ...client, name: 'basic' }),
        oauth2({ ...client, name: 'post', authMethod: 'client_secret_post' }),
        oauth2({ ...client, name: 'mtls', authMethod: 'tls_client_auth' }),
        latamPass(client),
        transatel(client),
        prio({ ...client, clientSecret: () => client.clientSecret }),
        sabre({ ...client, username: 'epr', password: 'pw' }),
      ];
try {
  await Promise.all(strategies.map((s) => s.requestToken(strategyContext())));
  // Pay-me answers its own format; the counting server's token is enough to build the request.
  await payme({ ...client, audience: 'https://api' })
    .requestToken(strategyContext())
    .catch(() => undefined);
  process.send!({ tokens: server.requests });
} catch (error) {
  process.send!({ error: error instanceof Error ? error.message : String(error) });
} finally {
  await server.close();
  process.disconnect();
}
