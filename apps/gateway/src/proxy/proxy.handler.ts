import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { OAuthProviderError, type AccessToken, type TokenService } from '@oauth-gateway/oauth-providers';
import type { ApiKeys, Caller } from '../auth/api-keys.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { AccessLog } from '../logging/access-log.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { ProblemError, renderProblem } from '../problem/problem.js';
import { rateLimitedProblem } from '../ratelimit/rate-limit.problem.js';
import type { RateLimiter } from '../ratelimit/rate-limiter.interface.js';
import { clientAddress } from './client-address.js';
import { callerResponseHeaders, requestIdFor, upstreamRequestHeaders, withProviderHeaders } from './proxy-headers.js';
import { parseProxyTarget } from './proxy-target.js';
import { RequestBody } from './request-body.js';
import { UpstreamExchange, type AnswerStart } from './upstream-exchange.js';
import type { Upstream, Upstreams } from './upstreams.js';

export interface ProxyDependencies {
  config: Pick<GatewayConfig, 'knownProviders' | 'maxBodyBytes'>;
  tokens: TokenService;
  apiKeys: ApiKeys;
  rateLimiter: RateLimiter;
  upstreams: Upstreams;
  metrics: MetricsService;
  logger: Logger;
  accessLog: AccessLog;
  /** True once a shutdown began: answers then say `connection: close`, so callers do not reuse a closing connection. */
  draining: () => boolean;
}

/** What the access line and the metrics say about one request. */
interface Exchange {
  /** The caller's name, `-` until authenticated. */
  caller: string;
  provider: string;
  path: string;
  status: number;
  /** `performance.now()` when the request went upstream, moved forward by the token wait of a replay; 0: never sent. */
  upstreamAt: number;
  body?: RequestBody;
}

/** The methods forwarded; others get the router's 404. HEAD is forwarded as HEAD, not answered by running GET. */
export const PROXIED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * `ANY /{provider}/{path...}`: authenticates the caller, checks the path, attaches the
 * provider's token and streams the request to the provider's API and its answer back
 * (gateway.md). Works on Node's raw request and response: no body parsing, no per-request
 * objects beyond the headers it must build.
 */
export class ProxyHandler {
  constructor(private readonly deps: ProxyDependencies) {}

  /** Node's request listener for the proxy (see `GatewayServer`). */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(req, res).catch((error: unknown) => {
      // `handle` answers every failure itself; this is the net under a bug, never a crash.
      this.deps.logger.error({ err: error }, 'proxy failed');
      res.destroy();
    });
  };

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = requestIdFor(req.headers['x-request-id']);
    const exchange: Exchange = { caller: '-', provider: '-', path: '', status: 0, upstreamAt: 0 };
    const socket = req.socket;
    const writtenBefore = socket.bytesWritten;
    try {
      await this.forward(req, res, requestId, exchange);
    } catch (error) {
      this.fail(error, req, res, requestId, exchange);
    }
    const ended = performance.now();
    const ms = ended - started;
    const upstreamMs = exchange.upstreamAt === 0 ? undefined : ended - exchange.upstreamAt;
    this.deps.metrics.recordProxied(exchange.provider, req.method ?? 'OTHER', exchange.status, ms / 1000, upstreamMs && upstreamMs / 1000);
    // The path never includes the query string (it may carry a secret).
    this.deps.accessLog.write({
      reqId: requestId,
      caller: exchange.caller,
      client: clientAddress(req),
      upstreamMs: upstreamMs && Math.round(upstreamMs),
      bytesIn: exchange.body?.bytes ?? 0,
      bytesOut: socket.bytesWritten - writtenBefore,
      provider: exchange.provider,
      method: req.method ?? '',
      path: exchange.path,
      status: exchange.status,
      ms: Math.round(ms),
    });
  }

  private async forward(req: IncomingMessage, res: ServerResponse, requestId: string, exchange: Exchange): Promise<void> {
    const { apiKeys, upstreams, config, tokens } = this.deps;
    const caller = apiKeys.authenticate(req.headers['x-api-key']);
    if (!caller) throw new ProblemError('unauthenticated');
    exchange.caller = caller.name;
    const parsed = parseProxyTarget(req.url ?? '');
    if (!parsed.ok) throw new ProblemError('invalid_path', { detail: parsed.reason });
    const { provider, path, search } = parsed.target;
    if (provider === '') throw new ProblemError('not_found');
    exchange.path = path;
    // Permission before existence: a restricted key cannot probe which providers exist.
    if (!caller.allows(provider)) throw new ProblemError('forbidden', { provider });
    const upstream = upstreams.get(provider);
    if (!upstream) {
      if (config.knownProviders.has(provider)) throw new ProblemError('provider_not_configured', { provider });
      throw new ProblemError('unknown_provider');
    }
    exchange.provider = provider;
    if (caller.rateLimit !== undefined) await this.limit(caller, provider);
    const body = this.bodyOf(req, provider);
    exchange.body = body;

    const basePath = upstream.basePath + path;
    const target = (basePath === '' ? '/' : basePath) + search;
    const headers = upstreamRequestHeaders(req, requestId);
    // The caller went away before the whole answer was relayed: stop the upstream exchange too.
    let current: UpstreamExchange | undefined;
    res.once('close', () => res.writableEnded || current?.cancel(new Error('the caller went away')));

    let token = await this.token(provider);
    const relay: AnswerStart = (statusCode, answerHeaders) => {
      exchange.status = statusCode;
      if (this.deps.draining()) res.setHeader('connection', 'close');
      res.writeHead(statusCode, callerResponseHeaders(answerHeaders, requestId));
      return 'relay';
    };
    /** True when the answer was relayed whole; false when it was cut short after its status was sent. */
    const send = async (payload: RequestBody | Buffer | undefined, start: AnswerStart): Promise<boolean> => {
      const call = new UpstreamExchange(res, start, payload);
      current = call;
      const options = { method: req.method as Dispatcher.HttpMethod, path: target, headers: withProviderHeaders(headers, tokens.requestHeadersFor(token)), body: payload };
      upstream.pool.dispatch(options, call);
      let whole: boolean;
      try {
        whole = await call.done;
      } catch (error) {
        throw this.upstreamProblem(error, upstream, body);
      }
      // The status is already sent and the caller's answer was cut: nothing more to do.
      if (!whole) this.deps.logger.debug({ reqId: requestId, provider, err: { message: call.error?.message } }, 'answer stream ended early');
      return whole;
    };
    exchange.upstreamAt = performance.now();
    let replay: Buffer | undefined;
    let replaying = false;
    const sent = await send(body, (statusCode, answerHeaders) => {
      if (statusCode === 401) {
        // The provider dropped this token early (revoked, rotated): renew once and replay, if we can.
        replay = body?.replay();
        replaying = body === undefined || replay !== undefined;
        if (replaying) return 'discard';
      }
      return relay(statusCode, answerHeaders);
    });
    if (sent && replaying) {
      this.deps.metrics.recordReplay(provider);
      const renewing = performance.now();
      await tokens.invalidate(provider, token.accessToken);
      token = await this.token(provider);
      exchange.upstreamAt += performance.now() - renewing; // the token wait is the gateway's time
      await send(replay, relay);
    }
  }

  /** Keys with a rate limit only: one bucket per key, across all its providers. */
  private async limit(caller: Caller, provider: string): Promise<void> {
    const decision = await this.deps.rateLimiter.take(caller);
    if (decision.allowed) return;
    this.deps.metrics.recordRateLimited(provider);
    throw rateLimitedProblem(caller.rateLimit!, decision, provider);
  }

  /** The body to stream upstream, or undefined when there is none. Declared lengths are checked first. */
  private bodyOf(req: IncomingMessage, provider: string): RequestBody | undefined {
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > this.deps.config.maxBodyBytes) {
      throw new ProblemError('payload_too_large', { provider, detail: `the limit is ${this.deps.config.maxBodyBytes} bytes` });
    }
    const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    return hasBody ? new RequestBody(req, this.deps.config.maxBodyBytes) : undefined;
  }

  private async token(provider: string): Promise<AccessToken> {
    try {
      return await this.deps.tokens.getToken(provider);
    } catch (error) {
      if (!(error instanceof OAuthProviderError)) throw error;
      const retryAfter = error.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(error.retryAfterMs / 1000));
      throw error.kind === 'rejected'
        ? new ProblemError('token_rejected', { provider, detail: error.description ?? error.code, retryAfter })
        : new ProblemError('token_unavailable', { provider, detail: error.description, retryAfter });
    }
  }

  /** Why the upstream exchange failed before any answer was relayed, as the caller's problem. */
  private upstreamProblem(error: unknown, upstream: Upstream, body: RequestBody | undefined): ProblemError {
    const provider = upstream.provider;
    if (body?.tooLarge) return new ProblemError('payload_too_large', { provider, detail: `the limit is ${this.deps.config.maxBodyBytes} bytes` });
    const code = (error as { code?: string }).code;
    if (code !== undefined && TIMEOUT_CODES.has(code)) return new ProblemError('upstream_timeout', { provider });
    return new ProblemError('upstream_unreachable', { provider, detail: code });
  }

  private fail(error: unknown, req: IncomingMessage, res: ServerResponse, requestId: string, exchange: Exchange): void {
    const problem = error instanceof ProblemError ? error : new ProblemError('internal_error');
    if (problem.code === 'internal_error') {
      this.deps.logger.error({ reqId: requestId, err: error }, 'proxy failed');
    }
    exchange.status = problem.status;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, headers, body } = renderProblem(problem, requestId);
    // A body we did not read would otherwise be drained to keep the connection: close it instead.
    if (!req.complete || this.deps.draining()) headers.connection = 'close';
    res.writeHead(status, headers).end(body);
  }
}
