import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import type { TracingConfig } from '../config/tracing-config.js';
import { startTracing } from './tracing-sdk.js';
import type { ProxyTracing } from './tracing.js';

const request = (headers: Record<string, string> = {}) => ({ method: 'GET', url: '/prio/echo?x=1', headers }) as unknown as IncomingMessage;
const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7';

/** The proxy's view of tracing, asked by each request before anything is made: what the sampler does not record costs no span. */
describe.each([
  ['always_off', 1, false, false],
  ['parentbased_always_on', 1, true, true],
  // A new trace under a ratio sampler is decided by a draw before its id (ratio-root.ts); a caller's sampled one by its flag.
  ['parentbased_traceidratio', 1, true, true],
  ['parentbased_traceidratio', 0, false, true],
] as const)('startTracing with the %s sampler at %s', (sampler, ratio, records, continues) => {
  let tracing: ProxyTracing;
  beforeAll(async () => {
    const config: TracingConfig = {
      url: 'http://127.0.0.1:9/v1/traces',
      headers: {},
      protocol: 'http/protobuf',
      sampler: { name: sampler, ratio },
      propagators: ['tracecontext', 'baggage'],
      resource: { 'service.name': 'test' },
      scheduleDelayMs: 60_000,
    };
    tracing = await startTracing(config);
  });
  afterAll(() => tracing.shutdown());

  it(
    records
      ? 'records a request that came without a trace, with a trace of its own'
      : 'starts no trace for a request that came without one',
    () => {
      const call = tracing.begin(request());
      const headers: Record<string, string | undefined> = { 'x-request-id': 'r' };
      call.upstream('GET', 'http://127.0.0.1:1', headers);
      // The same keys in the same order either way (undefined is a header undici does not send): see `traceSlots`.
      expect(Object.keys(headers)).toEqual(['x-request-id', 'traceparent', 'tracestate']);
      if (records) {
        expect(call.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(headers.traceparent).toMatch(new RegExp(`^00-${call.traceId}-[0-9a-f]{16}-01$`));
      } else {
        expect([call.traceId, call.spanId, headers.traceparent, headers.tracestate]).toEqual([undefined, undefined, undefined, undefined]);
        const tokenSpan = call.within(() => trace.getTracer('library').startSpan('oauth.token'));
        expect(tokenSpan.isRecording()).toBe(false);
        tokenSpan.end();
      }
      call.end({ provider: 'prio', caller: 'c', status: 200, outcome: 'ok' });
    },
  );

  it(continues ? "continues a caller's sampled trace" : "passes a caller's trace on as it came, unrecorded", () => {
    const call = tracing.begin(request({ traceparent: `${CALLER}-01`, tracestate: 'vendor=1' }));
    const headers: Record<string, string | undefined> = { traceparent: `${CALLER}-01`, tracestate: 'vendor=1', 'x-request-id': 'r' };
    call.upstream('GET', 'http://127.0.0.1:1', headers);
    expect(call.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(Object.keys(headers)).toEqual(['traceparent', 'tracestate', 'x-request-id']);
    if (continues) {
      expect(headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$/);
      expect(headers.tracestate).toBe('vendor=1');
    } else expect(headers).toEqual({ traceparent: `${CALLER}-01`, tracestate: 'vendor=1', 'x-request-id': 'r' });
    // What the OAuth library would start while the request asks for its token: recorded only with the request.
    const tokenSpan = call.within(() => trace.getTracer('library').startSpan('oauth.token'));
    expect(tokenSpan.isRecording()).toBe(continues);
    tokenSpan.end();
    call.end({ provider: 'prio', caller: 'c', status: 200, outcome: 'ok' });
  });
});
