import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROXIED_METHODS } from '../http/proxied-methods.js';
import { ProblemError } from '../problem/problem.js';
import type { ShutdownState } from '../shutdown/shutdown-state.js';
import { answerClientError, answerConnect, type ParserAnswer } from './client-errors.js';
import { sweepPeriodFor } from './deadline-sweeper.js';
import { isOriginForm, NOT_A_PATH } from './proxy-target.js';

/** Fastify's own default for the server it would have made, kept since ours replaces it. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** The proxy's entry: Node's request listener, told whether the caller waits for a `100 Continue`. */
export type ProxyListener = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => void;

export interface RequestLimits {
  /** `CLIENT_TIMEOUT_MS`: a request head not complete within this is answered 408. */
  clientTimeoutMs: number;
  /** `MAX_HEADER_COUNT`: more header fields than this are answered 431. */
  maxHeaderCount: number;
}

/** The proxy, as the server needs it once Nest has built it. */
export interface ProxyEntry {
  listener: ProxyListener;
  /** Answers a request the server refuses itself (and writes its access line). */
  refuse(req: IncomingMessage, res: ServerResponse, problem: ProblemError): void;
  /** The access line of a request Node's parser refused; `client`: the peer's address. */
  parserRefused(answer: ParserAnswer, client: string): void;
}

/** The methods one path is served in, and the `Allow` header that lists them. */
interface Served {
  methods: Set<string>;
  allow: string;
}

/**
 * The gateway's HTTP server, handed to Fastify as its `serverFactory`. A request for one of the
 * app's own routes (the Nest controllers: `/health`, `/health/ready`, `/tokens`, `/metrics`) goes
 * to Fastify and Nest; every other request goes straight to the proxy, so that the path every
 * caller takes pays none of Fastify's and Nest's per-request work. A method a path is not served
 * in is answered 405 with `Allow`, before any key is asked for since it depends on no caller:
 * the route's own methods on the app's paths, the proxied methods anywhere else.
 *
 * Own routes are recorded as Fastify registers them (`addOwnRoute`, from its `onRoute` hook), so the
 * split follows the controllers: a static route wins over `/{provider}/...` for its exact path only.
 * The proxy forwards `PROXIED_METHODS`.
 *
 * Before either, every request is held to the rules no route may relax: an origin-form target
 * (400), one `Host` header field (400, RFC 9112 §3.2: Node keeps the first and drops the rest), at
 * most `MAX_HEADER_COUNT` header fields (431, since Node would silently drop those past its own
 * cap, framing headers included) and no transfer coding but `chunked` (501, RFC 9112 §6.1).
 * `CONNECT`, which Node hands over as a bare socket, is answered 405 and the connection closed.
 * A request head must be complete within `CLIENT_TIMEOUT_MS` (Node's `headersTimeout`: 408, see
 * `client-errors.ts`).
 */
export class GatewayServer {
  private readonly ownPaths = new Map<string, Served>();
  private readonly proxied: Served = { methods: new Set(PROXIED_METHODS), allow: [...PROXIED_METHODS].join(', ') };
  private proxy: ProxyEntry | undefined;
  private shutdown: ShutdownState | undefined;
  private fastify: RequestListener = () => undefined;
  /** True once the operator routes are served by the admin server only. */
  private operatorsApart = false;

  constructor(private readonly limits: RequestLimits) {}

  /** For `new FastifyAdapter({ serverFactory })`: the proxy's server, and the operator routes' unless `adminServer()` is called. */
  readonly serverFactory = (fastify: RequestListener): Server => {
    this.fastify = fastify;
    return this.createServer(false);
  };

  /** `ADMIN_PORT`: a second server, for the operator routes only; from now on they are no routes of the proxy's server. */
  adminServer(): Server {
    this.operatorsApart = true;
    const server = this.createServer(true);
    // Fastify handles its own server's parser errors, this one's are ours.
    server.on('clientError', this.clientError);
    return server;
  }

  private createServer(admin: boolean): Server {
    const server = createServer(
      {
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        // No limit on a whole request (Fastify's default too): bodies stream, and the caller's deadlines bound each one.
        requestTimeout: 0,
        headersTimeout: this.limits.clientTimeoutMs,
        connectionsCheckingInterval: sweepPeriodFor(this.limits.clientTimeoutMs),
      },
      (req, res) => this.dispatch(req, res, false, admin),
    );
    // One more than allowed, so that a request over the limit is seen (Node keeps the first ones and drops the rest).
    server.maxHeadersCount = this.limits.maxHeaderCount + 1;
    // Answering `Expect: 100-continue` ourselves: a request refused anyway is refused before its body is sent.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.dispatch(req, res, true, admin));
    server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      const answer = answerConnect(req, socket, this.proxied.allow);
      if (answer !== undefined) this.proxy?.parserRefused(answer, req.socket.remoteAddress ?? '-');
    });
    return server;
  }

  /** For `new FastifyAdapter({ clientErrorHandler })`: Node's parser refused a request. */
  readonly clientError = (error: Error & { code?: string }, socket: Duplex): void => {
    const client = (socket as { remoteAddress?: string }).remoteAddress ?? '-';
    const answer = answerClientError(error, socket);
    if (answer !== undefined) this.proxy?.parserRefused(answer, client);
  };

  /** For Fastify's `onRoute` hook: one of the app's own routes. */
  addOwnRoute(method: string | string[], url: string): void {
    let served = this.ownPaths.get(url);
    if (served === undefined) this.ownPaths.set(url, (served = { methods: new Set(), allow: '' }));
    for (const m of Array.isArray(method) ? method : [method]) served.methods.add(m);
    served.allow = [...served.methods].join(', ');
  }

  /** From now on, requests that are not the app's own go to the proxy; until then, all go to Fastify. */
  serve(proxy: ProxyEntry, shutdown: ShutdownState): void {
    this.proxy = proxy;
    this.shutdown = shutdown;
  }

  /** `admin`: the request came to the admin server, which serves the operator routes and nothing else. */
  private dispatch(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean, admin: boolean): void {
    const proxy = this.proxy;
    if (proxy !== undefined) {
      const refusal = this.refusal(req);
      if (refusal !== undefined) return proxy.refuse(req, res, refusal);
      const url = req.url!;
      const queryAt = url.indexOf('?');
      const own = admin || !this.operatorsApart ? this.ownPaths.get(queryAt === -1 ? url : url.slice(0, queryAt)) : undefined;
      // On the admin server, a path that is no operator route goes to Fastify for its 404.
      const served = own ?? (admin ? undefined : this.proxied);
      if (served !== undefined && !served.methods.has(req.method!)) {
        return proxy.refuse(req, res, new ProblemError('method_not_allowed', { headers: { allow: served.allow } }));
      }
      if (own === undefined && !admin) return proxy.listener(req, res, expectsContinue);
      // A request arriving on a kept-alive connection while draining is served, and its connection ends with it.
      if (this.shutdown!.draining) res.setHeader('connection', 'close');
    }
    if (expectsContinue) res.writeContinue();
    this.fastify(req, res);
  }

  private refusal(req: IncomingMessage): ProblemError | undefined {
    if (req.rawHeaders.length > this.limits.maxHeaderCount * 2) {
      return new ProblemError('headers_too_large', { detail: `more than ${this.limits.maxHeaderCount} header fields` });
    }
    const coding = req.headers['transfer-encoding'];
    if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
      return new ProblemError('not_implemented', { detail: 'chunked is the only transfer coding accepted' });
    }
    if (!isOriginForm(req.url ?? '')) return new ProblemError('invalid_path', { detail: NOT_A_PATH });
    if (hostFields(req.rawHeaders) > 1) {
      return new ProblemError('bad_request', { detail: 'more than one Host header field', headers: { connection: 'close' } });
    }
    return undefined;
  }
}

/** How many `Host` fields the request head has. */
function hostFields(raw: string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // The common spellings first, so that most requests pay no lower-casing.
    if (name === 'host' || name === 'Host' || (name.length === 4 && name.toLowerCase() === 'host')) count++;
  }
  return count;
}
