/**
 * Spans through `@opentelemetry/api` only, an optional peer: a library must not bring an SDK (the
 * app registers one, or not). Loaded once, in the background; when it is not installed, or no SDK is
 * registered, every function here does next to nothing.
 */
let api: typeof import('@opentelemetry/api') | undefined;
void import('@opentelemetry/api').then(
  (loaded) => (api = loaded),
  () => undefined,
);

const TRACER = '@oauth-gateway/oauth-providers';

/**
 * The trace a token request belongs to, taken when the caller asks (`getToken`) and handed down
 * explicitly: the spans and events of a renewal then join the caller's trace whatever context
 * manager the app registered, one that follows async calls or one that does not.
 */
export type TraceContext = object;
type Context = import('@opentelemetry/api').Context;

/** Who started a renewal: a caller, in its trace, or the background refresher. */
export interface Asker {
  background: boolean;
  trace: TraceContext | undefined;
}

/** The caller's current trace context; undefined when no API is loaded. */
export function currentTrace(): TraceContext | undefined {
  return api?.context.active();
}

/** No trace: the context of renewals nobody waits on (the refresher's), so that they never join an unrelated request's trace. */
export function noTrace(): TraceContext | undefined {
  return api?.ROOT_CONTEXT;
}

/** Runs one token request in an `oauth.token` span (child of `parent`'s span); `outcome` names how it ended. */
export async function inTokenSpan<T>(
  parent: TraceContext | undefined,
  attributes: { provider: string; grantType: string; attempt: number },
  request: () => Promise<T>,
  outcome: (error: unknown) => string,
): Promise<T> {
  if (api === undefined) return request();
  const { trace, SpanKind, SpanStatusCode } = api;
  const span = trace.getTracer(TRACER).startSpan(
    'oauth.token',
    {
      kind: SpanKind.CLIENT,
      attributes: { 'oauth.provider': attributes.provider, 'oauth.grant_type': attributes.grantType, 'oauth.attempt': attributes.attempt },
    },
    parent as Context | undefined,
  );
  try {
    const result = await request();
    span.setAttribute('oauth.outcome', 'success');
    return result;
  } catch (error) {
    const failed = outcome(error);
    span.setAttribute('oauth.outcome', failed);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failed });
    throw error;
  } finally {
    span.end();
  }
}

/** Marks on the caller's span (`trace`'s) that it waited (`oauth.token_wait`, `oauth.store_lock_wait`), and how long. */
export function waitEvent(
  trace: TraceContext | undefined,
  name: 'oauth.token_wait' | 'oauth.store_lock_wait',
  attributes: Record<string, string | number>,
): void {
  if (api !== undefined && trace !== undefined) api.trace.getSpan(trace as Context)?.addEvent(name, attributes);
}

/** `waiting`, marked on the caller's span (`trace`'s) once it settles as a wait for a token (`oauth.token_wait`). */
export function tokenWait<T>(trace: TraceContext | undefined, provider: string, clock: { now(): number }, waiting: Promise<T>): Promise<T> {
  if (trace === undefined) return waiting;
  const from = clock.now();
  return waiting.finally(() => waitEvent(trace, 'oauth.token_wait', { 'oauth.provider': provider, 'oauth.wait_ms': clock.now() - from }));
}
