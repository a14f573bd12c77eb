import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { ProblemError } from '../problem/problem.js';
import { answerProblem, type CallerTerms } from './caller-answer.js';
import { sweepPeriodFor } from './deadline-sweeper.js';
import { requestIdFor } from './proxy-headers.js';

/** Fastify's own defaults for the server it would have made (fastify/lib/server.js). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** The proxy's entry: Node's request listener, told whether the caller waits for a `100 Continue`. */
export type ProxyListener = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => void;

export interface RequestLimits {
  /** `CLIENT_TIMEOUT_MS`: a request head not complete within this is answered 408. */
  clientTimeoutMs: number;
  /** `MAX_HEADER_COUNT`: more header fields than this are answered 431. */
  maxHeaderCount: number;
}

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
 *
 * Before either, every request is held to the rules no route may relax: at most `MAX_HEADER_COUNT`
 * header fields (431; Node would silently drop those past its own cap, framing headers included)
 * and no transfer coding but `chunked` (501, RFC 9112 §6.1). A request head must be complete within
 * `CLIENT_TIMEOUT_MS` (Node's `headersTimeout`: 408, see `client-errors.ts`).
 */
export class GatewayServer {
  private readonly ownRoutes = new Set<string>();
  private proxy: ProxyListener | undefined;
  private proxyMethods: ReadonlySet<string> = new Set();

  constructor(
    private readonly limits: RequestLimits,
    private readonly terms: CallerTerms,
  ) {}

  /** For `new FastifyAdapter({ serverFactory })`. */
  readonly serverFactory = (fastify: RequestListener): Server => {
    const server = createServer(
      {
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        // No limit on a whole request (Fastify's default too): bodies stream, and the caller's deadlines bound each one.
        requestTimeout: 0,
        headersTimeout: this.limits.clientTimeoutMs,
        connectionsCheckingInterval: sweepPeriodFor(this.limits.clientTimeoutMs),
      },
      (req, res) => this.dispatch(req, res, fastify, false),
    );
    // One more than allowed, so that a request over the limit is seen (Node keeps the first ones and drops the rest).
    server.maxHeadersCount = this.limits.maxHeaderCount + 1;
    // Answering `Expect: 100-continue` ourselves: a request refused anyway is refused before its body is sent.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.dispatch(req, res, fastify, true));
    return server;
  };

  /** For Fastify's `onRoute` hook: one of the app's own routes. */
  addOwnRoute(method: string | string[], url: string): void {
    for (const m of Array.isArray(method) ? method : [method]) this.ownRoutes.add(`${m} ${url}`);
  }

  /** From now on, requests in these methods that are not the app's own go to `proxy`; until then, all go to Fastify. */
  attachProxy(proxy: ProxyListener, methods: ReadonlySet<string>): void {
    this.proxyMethods = methods;
    this.proxy = proxy;
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, fastify: RequestListener, expectsContinue: boolean): void {
    const refusal = this.refusal(req);
    if (refusal !== undefined) return answerProblem(req, res, refusal, requestIdFor(req.headers['x-request-id']), this.terms);
    const proxy = this.proxy;
    const url = req.url ?? '';
    if (proxy !== undefined && url.charCodeAt(0) === 0x2f /* / */ && this.proxyMethods.has(req.method ?? '')) {
      const queryAt = url.indexOf('?');
      const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
      if (!this.ownRoutes.has(`${req.method} ${pathname}`)) return proxy(req, res, expectsContinue);
    }
    if (expectsContinue) res.writeContinue();
    fastify(req, res);
  }

  private refusal(req: IncomingMessage): ProblemError | undefined {
    if (req.rawHeaders.length > this.limits.maxHeaderCount * 2) {
      return new ProblemError('headers_too_large', { detail: `more than ${this.limits.maxHeaderCount} header fields` });
    }
    const coding = req.headers['transfer-encoding'];
    if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
      return new ProblemError('not_implemented', { detail: 'chunked is the only transfer coding accepted' });
    }
    return undefined;
  }
}
