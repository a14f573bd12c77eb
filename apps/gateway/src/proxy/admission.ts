import type { IncomingMessage } from 'node:http';
import type { ApiKeys, Caller } from '../auth/api-keys.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { ProblemError } from '../problem/problem.js';
import { rateLimitedProblem } from '../ratelimit/rate-limit.problem.js';
import type { RateLimiter } from '../ratelimit/rate-limiter.interface.js';
import { announcesBody } from './caller-answer.js';
import type { DeadlineSweeper, Expiring } from './deadline-sweeper.js';
import type { ForwardedFor } from './forwarded-for.js';
import { upstreamRequestHeaders } from './proxy-headers.js';
import { parseProxyTarget } from './proxy-target.js';
import { RequestBody, type BodyOwner } from './request-body.js';
import type { Upstream, Upstreams } from './upstreams.js';

/**
 * What admission decides about one request, written into the request's own object (no object of
 * its own per request): who calls, where the request goes, with which headers, and its body.
 */
export interface Admitted extends BodyOwner, Expiring {
  readonly req: IncomingMessage;
  readonly requestId: string;
  /** The name of the caller's key (never the key), `-` until authenticated. */
  caller: string;
  provider: string;
  /** The path after the provider's name, without the query string (it may carry a secret). */
  path: string;
  /** The authenticated caller, kept only when its key has a rate limit to check. */
  limited: Caller | undefined;
  upstream: Upstream | undefined;
  /** The path and query sent upstream. */
  target: string;
  headers: Record<string, string | string[]>;
  body: RequestBody | undefined;
}

export type AdmissionConfig = Pick<GatewayConfig, 'knownProviders' | 'maxBodyBytes' | 'maxInflightPerProvider'>;

/**
 * Everything that can refuse a request before it waits for a token: the caller's key, the path,
 * the key's permission, the provider's upstream, the body's announced size, the provider's requests
 * in flight and the key's rate limit. An admitted request counts in its provider's `inflight` until
 * it is finished (`ProxyCall` gives its place back).
 */
export class Admission {
  constructor(
    private readonly config: AdmissionConfig,
    private readonly apiKeys: ApiKeys,
    private readonly upstreams: Upstreams,
    private readonly forwardedFor: ForwardedFor,
    private readonly sweeper: DeadlineSweeper,
    private readonly rateLimiter: RateLimiter,
    private readonly metrics: MetricsService,
  ) {}

  /** The refusal, or undefined once `call` knows where it goes (its body then has its deadlines watched). */
  admit(call: Admitted): ProblemError | undefined {
    const req = call.req;
    const caller = this.apiKeys.authenticate(req.headers['x-api-key']);
    if (!caller) return new ProblemError('unauthenticated');
    call.caller = caller.name;
    const parsed = parseProxyTarget(req.url ?? '');
    if (!parsed.ok) return new ProblemError('invalid_path', { detail: parsed.reason });
    const { provider, path, search } = parsed.target;
    if (provider === '') return new ProblemError('not_found');
    call.path = path;
    // Permission before existence: a restricted key cannot probe which providers exist.
    if (!caller.allows(provider)) return new ProblemError('forbidden', { provider });
    const upstream = this.upstreams.get(provider);
    if (!upstream)
      return this.config.knownProviders.has(provider)
        ? new ProblemError('provider_not_configured', { provider })
        : new ProblemError('unknown_provider');
    call.provider = provider;
    if (caller.rateLimit !== undefined) call.limited = caller;
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > this.config.maxBodyBytes) return this.tooLarge(provider);
    if (upstream.inflight >= this.config.maxInflightPerProvider) {
      return new ProblemError('upstream_saturated', {
        provider,
        retryAfter: 1,
        detail: `more than ${this.config.maxInflightPerProvider} requests in flight to this provider`,
      });
    }
    call.upstream = upstream;
    upstream.inflight++;
    const basePath = upstream.basePath + path;
    call.target = (basePath === '' ? '/' : basePath) + search;
    call.headers = upstreamRequestHeaders(req, call.requestId, this.forwardedFor);
    if (announcesBody(req)) {
      call.body = new RequestBody(req, call, this.config.maxBodyBytes, this.sweeper);
      this.sweeper.watch(call);
    }
    return undefined;
  }

  /** Keys with a rate limit only: one bucket per key, across all its providers; the refusal, or undefined. */
  async limit(caller: Caller, provider: string): Promise<ProblemError | undefined> {
    const decision = await this.rateLimiter.take(caller);
    if (decision.allowed) return undefined;
    this.metrics.recordRateLimited(provider);
    return rateLimitedProblem(caller.rateLimit!, decision, provider);
  }

  tooLarge(provider: string): ProblemError {
    return new ProblemError('payload_too_large', { provider, detail: `the limit is ${this.config.maxBodyBytes} bytes` });
  }
}
