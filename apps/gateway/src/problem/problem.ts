/**
 * Errors the gateway produces itself (not the upstream's), rendered as RFC 9457
 * `application/problem+json`. One table of codes, titles and statuses.
 */
export const PROBLEMS = {
  unauthenticated: { status: 401, title: 'Missing or unknown API key' },
  forbidden: { status: 403, title: 'This API key may not use this provider' },
  not_found: { status: 404, title: 'No such route' },
  unknown_provider: { status: 404, title: 'No such provider' },
  provider_not_configured: { status: 404, title: 'Provider is not configured' },
  invalid_path: { status: 400, title: 'The path would leave the provider base URL' },
  bad_request: { status: 400, title: 'Malformed request' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'The request did not arrive in time' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unreadable Content-Type' },
  rate_limited: { status: 429, title: 'This API key is over its rate limit' },
  headers_too_large: { status: 431, title: 'Request headers too large' },
  token_rejected: { status: 502, title: 'Token endpoint rejected the credentials' },
  token_unavailable: { status: 503, title: 'Token endpoint unavailable' },
  upstream_unreachable: { status: 502, title: 'Provider API unreachable' },
  upstream_timeout: { status: 504, title: 'Provider API did not answer in time' },
  upstream_saturated: { status: 503, title: 'Too many requests in flight to this provider' },
  internal_error: { status: 500, title: 'Internal error' },
  not_implemented: { status: 501, title: 'Transfer coding not implemented' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemOptions {
  provider?: string;
  detail?: string;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Extra response headers (e.g. `connection: close` after a cut-off upload). */
  headers?: Record<string, string>;
}

/** Thrown anywhere in the gateway; the proxy and the Nest exception filter render it. */
export class ProblemError extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly options: ProblemOptions = {},
  ) {
    super(options.detail ?? PROBLEMS[code].title);
    this.name = 'ProblemError';
    this.status = PROBLEMS[code].status;
  }
}

export interface RenderedProblem {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function renderProblem(error: ProblemError, requestId: string): RenderedProblem {
  const { code, options, status } = error;
  const body = JSON.stringify({
    type: 'about:blank',
    title: PROBLEMS[code].title,
    status,
    code,
    provider: options.provider,
    detail: options.detail,
    requestId,
  });
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': requestId,
    ...options.headers,
  };
  if (options.retryAfter !== undefined) headers['retry-after'] = String(options.retryAfter);
  return { status, headers, body };
}

/** The problem code for a status some framework layer chose (Fastify's 400s, Nest's 404...). */
export function problemForStatus(status: number): ProblemCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 408:
      return 'request_timeout';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 431:
      return 'headers_too_large';
    case 501:
      return 'not_implemented';
    default:
      return status >= 400 && status < 500 ? 'bad_request' : 'internal_error';
  }
}
