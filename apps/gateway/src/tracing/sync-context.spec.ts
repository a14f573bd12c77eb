import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ScriptedStrategy } from '../../../../libs/oauth-providers/test-support/scripted-strategy.js';
import { createTokenService } from '../../../../libs/oauth-providers/test-support/token-service.js';
import { SyncContextManager } from './sync-context.js';

const key = (name: string) => Symbol.for(name);

describe('SyncContextManager', () => {
  const manager = new SyncContextManager(ROOT_CONTEXT);
  const a = ROOT_CONTEXT.setValue(key('a'), 1);
  const b = ROOT_CONTEXT.setValue(key('b'), 2);

  it('holds a context for the synchronous run of `with`, nested or thrown out of, then restores the one before', () => {
    expect(manager.with(a, () => manager.with(b, () => manager.active()))).toBe(b);
    expect(() =>
      manager.with(a, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(manager.active()).toBe(ROOT_CONTEXT);
    expect(manager.with(a, (x: number, y: number) => [manager.active(), x + y], undefined, 2, 3)).toEqual([a, 5]);
  });

  it('binds a function to a context, and leaves other values alone', () => {
    const bound = manager.bind(a, () => manager.active());
    expect(manager.with(b, bound)).toBe(a);
    const plain = { x: 1 };
    expect(manager.bind(a, plain)).toBe(plain);
  });

  it('does not follow awaits: after one, the context is the one outside `with` again', async () => {
    const seen = await manager.with(a, async () => {
      await Promise.resolve();
      return manager.active();
    });
    expect(seen).toBe(ROOT_CONTEXT);
  });
});

describe('the OAuth library under a context manager that does not follow awaits', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const manager = new SyncContextManager(ROOT_CONTEXT);

  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(manager);
    // The library loads the API in the background when its module is first evaluated.
    await new Promise((resolve) => setImmediate(resolve));
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  const within = <T>(parent: Context, fn: () => T) => context.with(parent, fn);

  it("puts a renewal that answers after awaits in the trace of the caller that started it, and marks each caller's wait on its own span", async () => {
    const strategy = new ScriptedStrategy('acme').answers(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return { accessToken: 'a1', expiresIn: 3600 };
    });
    const service = createTokenService([strategy]);
    const tracer = trace.getTracer('test');
    const first = tracer.startSpan('first');
    const second = tracer.startSpan('second');
    const tokens = await Promise.all([
      within(trace.setSpan(ROOT_CONTEXT, first), () => service.getToken('acme')),
      within(trace.setSpan(ROOT_CONTEXT, second), () => service.getToken('acme')),
    ]);
    first.end();
    second.end();
    expect(tokens.map((t) => t.accessToken)).toEqual(['a1', 'a1']);
    expect(strategy.calls).toHaveLength(1);
    const spans = exporter.getFinishedSpans();
    const token = spans.find((s) => s.name === 'oauth.token')!;
    expect(token.spanContext().traceId).toBe(first.spanContext().traceId);
    expect(token.parentSpanContext?.spanId).toBe(first.spanContext().spanId);
    for (const caller of ['first', 'second'])
      expect(spans.find((s) => s.name === caller)!.events.map((e) => e.name)).toEqual(['oauth.token_wait']);
  });

  it('gives a background renewal a trace of its own, never the trace of whichever request was current', async () => {
    exporter.reset();
    const service = createTokenService([new ScriptedStrategy('bg').answers({ accessToken: 'b1', expiresIn: 3600 })]);
    const request = trace.getTracer('test').startSpan('request');
    await within(trace.setSpan(ROOT_CONTEXT, request), () => service.refreshInBackground('bg'));
    request.end();
    const token = exporter.getFinishedSpans().find((s) => s.name === 'oauth.token')!;
    expect(token.parentSpanContext).toBeUndefined();
    expect(token.spanContext().traceId).not.toBe(request.spanContext().traceId);
  });
});
