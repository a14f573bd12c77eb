import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';

/** Fastify's own defaults for the server it would have made (fastify/lib/server.js). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * The gateway's HTTP server, handed to Fastify as its `serverFactory`. A request for one of the
 * app's own routes (the Nest controllers: `/health`, `/health/ready`, `/tokens`, `/metrics`), or
 * whose target is not a path, or in a method the proxy does not forward (`PROPFIND`...), goes to
 * Fastify and Nest (which answer 404 for what they do not know); every other request goes straight
 * to the proxy. The proxy is on every call our users make: this way it pays none of the per-request work
 * of Fastify and Nest (request and reply objects, routing, Nest's hooks and middleware runner),
 * which it did not use anyway since it works on Node's raw request and response.
 *
 * Own routes are recorded as Fastify registers them (its `onRoute` hook), so the split follows the
 * controllers: as before, a static route wins over `/{provider}/...` only for its exact path and
 * method, e.g. `POST /health` or `/health/x` reach the proxy (and get `unknown_provider`).
 */
export class GatewayServer {
  private readonly ownRoutes = new Set<string>();
  private proxy: RequestListener | undefined;
  private proxyMethods: ReadonlySet<string> = new Set();

  /** For `new FastifyAdapter({ serverFactory })`. */
  readonly serverFactory = (fastify: RequestListener): Server => {
    const server = createServer((req, res) => this.dispatch(req, res, fastify));
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // No limit on a whole request (Fastify's default too): bodies stream, and the upstream's timeouts bound each exchange.
    server.requestTimeout = 0;
    return server;
  };

  /** For Fastify's `onRoute` hook: one of the app's own routes. */
  addOwnRoute(method: string | string[], url: string): void {
    for (const m of Array.isArray(method) ? method : [method]) this.ownRoutes.add(`${m} ${url}`);
  }

  /** From now on, requests in these methods that are not the app's own go to `proxy`; until then, all go to Fastify. */
  attachProxy(proxy: RequestListener, methods: ReadonlySet<string>): void {
    this.proxyMethods = methods;
    this.proxy = proxy;
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, fastify: RequestListener): void {
    const proxy = this.proxy;
    const url = req.url ?? '';
    if (proxy === undefined || url.charCodeAt(0) !== 0x2f /* / */ || !this.proxyMethods.has(req.method ?? '')) return fastify(req, res);
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    if (this.ownRoutes.has(`${req.method} ${pathname}`)) return fastify(req, res);
    proxy(req, res);
  }
}
