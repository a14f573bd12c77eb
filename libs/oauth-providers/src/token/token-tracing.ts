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

/** Runs one token request in an `oauth.token` span (child of the current span); `outcome` names how it ended. */
export async function inTokenSpan<T>(
  attributes: { provider: string; grantType: string; attempt: number },
  request: () => Promise<T>,
  outcome: (error: unknown) => string,
): Promise<T> {
  if (api === undefined) return request();
  const { trace, SpanKind, SpanStatusCode } = api;
  const span = trace.getTracer(TRACER).startSpan('oauth.token', {
    kind: SpanKind.CLIENT,
    attributes: { 'oauth.provider': attributes.provider, 'oauth.grant_type': attributes.grantType, 'oauth.attempt': attributes.attempt },
  });
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

/** Marks on the caller's current span that it waited (`oauth.token_wait`, `oauth.store_lock_wait`), and how long. */
export function waitEvent(name: 'oauth.token_wait' | 'oauth.store_lock_wait', attributes: Record<string, string | number>): void {
  api?.trace.getActiveSpan()?.addEvent(name, attributes);
}

/** `waiting`, marked on the caller's current span once it settles as a wait for a token (`oauth.token_wait`). */
export function tokenWait<T>(provider: string, clock: { now(): number }, waiting: Promise<T>): Promise<T> {
  if (api === undefined) return waiting;
  const from = clock.now();
  return waiting.finally(() => waitEvent('oauth.token_wait', { 'oauth.provider': provider, 'oauth.wait_ms': clock.now() - from }));
}
