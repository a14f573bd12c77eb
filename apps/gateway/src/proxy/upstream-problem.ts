import type { IncomingHttpHeaders } from 'node:http';
import { ProblemError } from '../problem/problem.js';

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Why the upstream exchange failed before any byte of its answer was relayed, as the caller's problem. */
export function upstreamProblem(error: Error, provider: string): ProblemError {
  const code = (error as { code?: string }).code;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new ProblemError('upstream_timeout', { provider });
  // An egress proxy's failure carries a detail naming the proxy (see egress-dispatcher.ts).
  return new ProblemError('upstream_unreachable', { provider, detail: (error as { detail?: string }).detail ?? code });
}

/** A 204 whose head announces content (RFC 9110 §8.6 forbids it): what follows its head would be taken for the next answer. */
export function contentOn204(headers: IncomingHttpHeaders, provider: string): ProblemError | undefined {
  const length = headers['content-length'];
  if ((length === undefined || length === '0') && headers['transfer-encoding'] === undefined) return undefined;
  return new ProblemError('upstream_unreachable', { provider, detail: 'a 204 answer announcing content' });
}

/** A `204` or `304` followed by bytes anyway (RFC 9112 §6.3): the connection is out of step. */
export function contentAfterBodiless(provider: string): ProblemError {
  return new ProblemError('upstream_unreachable', { provider, detail: 'content after an answer that has none' });
}
