import type { OnModuleInit } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { OAuthProviderError, type AccessToken, type TokenService } from '@oauth-gateway/oauth-providers';
import type { ApiKeys, Caller } from '../auth/api-keys.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { AccessLog } from '../logging/access-log.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { ProblemError } from '../problem/problem.js';
import { rateLimitedProblem } from '../ratelimit/rate-limit.problem.js';
import type { RateLimiter } from '../ratelimit/rate-limiter.interface.js';
import { answerProblem, type CallerTerms } from './caller-answer.js';
import { ForwardedFor } from './forwarded-for.js';
import type { GatewayServer } from './gateway-server.js';
import { PROXIED_METHODS } from '../http/proxied-methods.js';
import { ProxyCall } from './proxy-call.js';
import { requestIdFor } from '../http/request-id.js';
import type { Upstreams } from './upstreams.js';

export interface ProxyDependencies {
  config: Pick<GatewayConfig, 'knownProviders' | 'maxBodyBytes' | 'uploadTimeoutMs' | 'trustedProxies'>;
  tokens: TokenService;
  apiKeys: ApiKeys;
  rateLimiter: RateLimiter;
  upstreams: Upstreams;
  metrics: MetricsService;
  logger: Logger;
  accessLog: AccessLog;
  terms: CallerTerms;
}

/**
 * `ANY /{provider}/{path...}`: authenticates the caller, checks the path, attaches the
 * provider's token and streams the request to the provider's API and its answer back (each
 * request's lifetime is its `ProxyCall`'s). Works on Node's raw request and response: no body
 * parsing, no per-request objects beyond a `ProxyCall` and the headers it must build.
 */
export class ProxyHandler implements OnModuleInit {
  readonly forwardedFor: ForwardedFor;

  constructor(
    readonly deps: ProxyDependencies,
    private readonly server: GatewayServer,
  ) {
    this.forwardedFor = new ForwardedFor(deps.config.trustedProxies);
  }

  /** Takes over the server's proxied requests once every dependency is built (Nest's init, before listening). */
  onModuleInit(): void {
    this.server.attachProxy({
      listener: this.listener,
      methods: PROXIED_METHODS,
      terms: this.deps.terms,
      refuse: (req, res, problem) => this.refuse(req, res, problem),
      parserRefused: ({ requestId, method, status, bytesOut }, client) => this.logRefusal(requestId, client, method, status, bytesOut, 0),
    });
  }

  /** Node's request listener for the proxy (see `GatewayServer`); `expectsContinue`: the caller waits for a 100 Continue. */
  readonly listener = (req: IncomingMessage, res: ServerResponse, expectsContinue = false): void => {
    void new ProxyCall(this, req, res, expectsContinue).start();
  };

  /** The provider's token, or the caller's problem when there is none to be had. */
  async token(provider: string): Promise<AccessToken> {
    try {
      return await this.deps.tokens.getToken(provider);
    } catch (error) {
      // A strategy's own exception is a bug, not the provider's answer: 500 internal_error, logged, no detail.
      if (!(error instanceof OAuthProviderError) || error.kind === 'strategy_error') throw error;
      const retryAfter = error.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(error.retryAfterMs / 1000));
      throw error.kind === 'rejected'
        ? new ProblemError('token_rejected', { provider, detail: error.description ?? error.code, retryAfter })
        : new ProblemError('token_unavailable', { provider, detail: error.description, retryAfter });
    }
  }

  /** Keys with a rate limit only: one bucket per key, across all its providers; the refusal, or undefined. */
  async limit(caller: Caller, provider: string): Promise<ProblemError | undefined> {
    const decision = await this.deps.rateLimiter.take(caller);
    if (decision.allowed) return undefined;
    this.deps.metrics.recordRateLimited(provider);
    return rateLimitedProblem(caller.rateLimit!, decision, provider);
  }

  tooLarge(provider: string): ProblemError {
    return new ProblemError('payload_too_large', { provider, detail: `the limit is ${this.deps.config.maxBodyBytes} bytes` });
  }

  /** A request refused by the server's own rules before any proxying: answered, with an access line (caller unknown). */
  refuse(req: IncomingMessage, res: ServerResponse, problem: ProblemError): void {
    const started = performance.now();
    const requestId = requestIdFor(req.headers['x-request-id']);
    const writtenBefore = req.socket.bytesWritten;
    answerProblem(req, res, problem, requestId, this.deps.terms);
    const bytesOut = req.socket.bytesWritten - writtenBefore;
    this.logRefusal(
      requestId,
      this.forwardedFor.clientAddress(req),
      req.method ?? '-',
      problem.status,
      bytesOut,
      performance.now() - started,
    );
  }

  private logRefusal(reqId: string, client: string, method: string, status: number, bytesOut: number, ms: number): void {
    this.deps.accessLog.write({
      reqId,
      caller: '-',
      client,
      upstreamMs: undefined,
      bytesIn: 0,
      bytesOut,
      provider: '-',
      method,
      path: '',
      status,
      ms: Math.round(ms),
    });
  }

  /** The access line and the metrics of one request, once its outcome is decided. */
  log(call: ProxyCall): void {
    const ended = performance.now();
    const ms = ended - call.started;
    const upstreamMs = call.upstreamAt === 0 ? undefined : ended - call.upstreamAt;
    const method = call.req.method ?? '';
    this.deps.metrics.recordProxied(call.provider, method || 'OTHER', call.status, ms / 1000, upstreamMs && upstreamMs / 1000);
    // The path never includes the query string (it may carry a secret).
    this.deps.accessLog.write({
      reqId: call.requestId,
      caller: call.caller,
      // The caller's own address, as TRUSTED_PROXIES resolves it.
      client: this.forwardedFor.clientAddress(call.req),
      upstreamMs: upstreamMs && Math.round(upstreamMs),
      bytesIn: call.body?.bytes ?? 0,
      bytesOut: call.req.socket.bytesWritten - call.writtenBefore,
      provider: call.provider,
      method,
      path: call.path,
      status: call.status,
      ms: Math.round(ms),
    });
  }
}
