import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readTracing } from './tracing-config.js';

const read = (env: Record<string, string>) => {
  const problems: string[] = [];
  return { tracing: readTracing(env, problems), problems };
};

describe('readTracing (OTEL_* variables)', () => {
  it.each([
    [{}, false],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
  ])('%p: on = %p', (env, on) => {
    const { tracing, problems } = read(env);
    expect(problems).toEqual([]);
    expect(tracing !== undefined).toBe(on);
  });

  it('appends /v1/traces to the general endpoint, takes the traces endpoint as it is, defaults to localhost:4318', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318/' }).tracing?.url).toBe('https://collector:4318/v1/traces');
    expect(read({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c/custom' }).tracing?.url).toBe('http://c/custom');
    expect(read({ OTEL_TRACES_EXPORTER: 'otlp' }).tracing?.url).toBe('http://localhost:4318/v1/traces');
  });

  it('reads the defaults and the standard values', () => {
    expect(read({ OTEL_TRACES_EXPORTER: 'otlp' }).tracing).toEqual({
      protocol: 'http/protobuf',
      url: 'http://localhost:4318/v1/traces',
      headers: {},
      resource: { 'service.name': 'oauth-gateway' },
      sampler: { name: 'parentbased_always_on', ratio: 1 },
      propagators: ['tracecontext', 'baggage'],
      scheduleDelayMs: 5000,
    });
    const { tracing } = read({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=gw',
      OTEL_SERVICE_NAME: 'edge-gateway',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=ignored',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      OTEL_PROPAGATORS: 'tracecontext',
    });
    expect(tracing).toMatchObject({
      protocol: 'http/json',
      headers: { authorization: 'Bearer abc', 'x-team': 'gw' },
      resource: { 'service.name': 'edge-gateway', 'deployment.environment': 'prod' },
      sampler: { name: 'parentbased_traceidratio', ratio: 0.01 },
      propagators: ['tracecontext'],
    });
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER: must be otlp or none'],
    [
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'OTEL_EXPORTER_OTLP_PROTOCOL: must be http/protobuf or http/json',
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: must be an absolute http(s) URL'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an absolute http(s) URL'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, 'OTEL_EXPORTER_OTLP_HEADERS: must be a comma-separated list'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER: must be one of'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_PROPAGATORS: 'b3' }, 'OTEL_PROPAGATORS: the gateway knows tracecontext, baggage and none'],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_SCHEDULE_DELAY: '0' }, 'OTEL_BSP_SCHEDULE_DELAY'],
  ])('%p: one problem line naming the variable', (env, line) => {
    const { tracing, problems } = read(env);
    expect(tracing).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(line);
  });

  it('never echoes a header value (it may be a credential), whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8 }), (value) => {
        const { problems } = read({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: value });
        for (const line of problems) expect(line).not.toContain(value);
      }),
    );
  });
});
