import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

/**
 * A peer of the gateway: Fastify with `@fastify/http-proxy`, as a user would write it by hand in
 * front of one provider: one fixed Authorization header added to every call (no token fetching,
 * no API keys, no logging: Fastify's default). Run as a child of `run.ts`:
 * PEER_UPSTREAM=http://127.0.0.1:port/prio/api PEER_AUTHORIZATION='Bearer x'.
 */
const upstream = new URL(process.env.PEER_UPSTREAM ?? '');
const authorization = process.env.PEER_AUTHORIZATION ?? '';

const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream: upstream.origin,
  prefix: '/',
  rewritePrefix: `${upstream.pathname.replace(/\/+$/, '')}/`,
  replyOptions: { rewriteRequestHeaders: (_req, headers) => ({ ...headers, authorization }) },
});
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address() as { port: number };
process.send?.({ ready: true, url: `http://127.0.0.1:${port}` });

const stop = () => void app.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('disconnect', stop);
