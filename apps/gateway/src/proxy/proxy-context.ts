import type { Logger } from 'pino';
import type { Admission } from './admission.js';
import type { CallerTerms } from './caller-answer.js';
import type { ProxyLog } from './proxy-log.js';
import type { ProxyTokens } from './proxy-tokens.js';
import type { ProxyTracing } from '../tracing/tracing.js';

/**
 * Everything a proxied request works with, built once (`proxy.providers.ts`) and handed to each
 * request: it reaches nothing else, and nothing that made it.
 */
export interface ProxyContext {
  /** Who calls, where the request goes, or why it is refused. */
  readonly admission: Admission;
  /** The provider's token, renewed after a 401. */
  readonly tokens: ProxyTokens;
  /** The caller's deadlines (the sweeper) and the shutdown's state, shared with every answer. */
  readonly terms: CallerTerms;
  /** `UPLOAD_TIMEOUT_MS`: the longest a caller's body may take to arrive. */
  readonly uploadTimeoutMs: number;
  /** `UPSTREAM_TIMEOUT_MS`: the longest wait for the API's final answer head, held here once a 1xx arrived. */
  readonly upstreamTimeoutMs: number;
  /** The access line and the metrics of each request. */
  readonly log: ProxyLog;
  readonly logger: Logger;
  /** OpenTelemetry's spans; undefined when tracing is off. */
  readonly tracing: ProxyTracing | undefined;
}
