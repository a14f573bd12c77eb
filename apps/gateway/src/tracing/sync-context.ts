import type { Context, ContextManager } from '@opentelemetry/api';

/**
 * A context manager that holds the current context for the synchronous run of `with` only.
 * OpenTelemetry's Node managers follow contexts across awaits with AsyncLocalStorage, whose
 * promise hooks tax every promise of the process on Node 20 (the proxy path's CPU per request,
 * 1 % of traces sampled or not); the gateway needs no such following: it enters the request's
 * context around the token call, and the OAuth library takes the trace from there, synchronously,
 * and hands it down itself. Hand-written because OpenTelemetry's synchronous manager ships only in
 * its web SDK.
 */
export class SyncContextManager implements ContextManager {
  private current: Context;

  constructor(private readonly root: Context) {
    this.current = root;
  }

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = target as (...args: unknown[]) => unknown;
    return ((...args: unknown[]) => this.with(context, () => run(...args))) as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = this.root;
    return this;
  }
}
