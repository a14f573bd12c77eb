import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { emulatorEnv, KEY_ALL } from '../support/gateway-harness.js';
import { GatewayProcess, metric } from '../support/gateway-process.js';
import { freePort, waitUntil } from '../support/helpers.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { ROOT, startProcess, waitForHealth } from '../support/processes.js';

const SERVER = 2;
const CLIENT = 3;
/** The caller's own trace, which the gateway's spans continue. */
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
/** A caller's trace it chose not to sample. */
const UNSAMPLED_TRACE = '0af7651916cd43dd8448eb211c80319c';

describe.each([['http/protobuf'], ['http/json']])('OpenTelemetry traces over OTLP %s, a real gateway process and receiver', (protocol) => {
  let emulators: ProviderEmulators;
  let receiver: OtlpReceiver;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    receiver = await OtlpReceiver.start();
    gateway = await GatewayProcess.start({
      ...emulatorEnv(emulators),
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-receiver-key=s3cret%20value',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await receiver?.close();
    await emulators?.close();
  });

  const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  const one = (spans: ReceivedSpan[], test: (s: ReceivedSpan) => boolean) => {
    const found = spans.filter(test);
    expect(found).toHaveLength(1);
    return found[0];
  };

  it("a caller's unsampled trace reaches the partner as it came, and nothing of it is exported (checked below, once the gateway has stopped)", async () => {
    // Another provider than the next test's, whose first token request must be cold.
    const res = await fetch(`${gateway.url}/sabre/echo`, {
      headers: { 'x-api-key': KEY_ALL, traceparent: `00-${UNSAMPLED_TRACE}-${CALLER_SPAN}-00`, 'x-request-id': `unsampled-${protocol}` },
    });
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as { headers: Record<string, string> };
    // Not recorded: no span of the gateway's, so the caller's own context goes on as it came.
    expect(echoed.headers.traceparent).toBe(`00-${UNSAMPLED_TRACE}-${CALLER_SPAN}-00`);
    const line = await gateway.waitForAccessLine(`unsampled-${protocol}`);
    expect(line).toMatchObject({ trace_id: UNSAMPLED_TRACE });
    expect(line).not.toHaveProperty('span_id');
  });

  it("one trace per request: the server span continues the caller's traceparent, the token request and the upstream call are its children, and the partner gets the client span's context", async () => {
    const res = await fetch(`${gateway.url}/prio/echo?secret=1`, {
      headers: { 'x-api-key': KEY_ALL, traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, 'x-request-id': `trace-${protocol}` },
    });
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as { headers: Record<string, string> };
    await gateway.stop(); // exports what is queued
    await waitUntil(() => spansOf(CALLER_TRACE).length >= 3, 'the three spans at the receiver');
    const spans = spansOf(CALLER_TRACE);
    expect(spansOf(UNSAMPLED_TRACE)).toEqual([]);
    const server = one(spans, (s) => s.kind === SERVER);
    expect(server).toMatchObject({
      name: 'GET /prio/*',
      parentSpanId: CALLER_SPAN,
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/prio/echo',
        'http.route': '/prio/*',
        'http.response.status_code': 200,
        'gateway.provider': 'prio',
        'gateway.caller': 'env-1',
      },
      resource: { 'service.name': 'oauth-gateway', 'deployment.environment': 'test' },
    });
    const token = one(spans, (s) => s.name === 'oauth.token');
    expect(token).toMatchObject({
      parentSpanId: server.spanId,
      attributes: { 'oauth.provider': 'prio', 'oauth.grant_type': 'client_credentials', 'oauth.attempt': 1, 'oauth.outcome': 'success' },
      scope: '@oauth-gateway/oauth-providers',
    });
    expect(server.events.map((e) => e.name)).toContain('oauth.token_wait');
    const client = one(spans, (s) => s.kind === CLIENT && s.name === 'GET');
    expect(client).toMatchObject({
      parentSpanId: server.spanId,
      attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
    });
    expect(echoed.headers.traceparent).toBe(`00-${CALLER_TRACE}-${client.spanId}-01`);
    const line = gateway.accessLine(`trace-${protocol}`);
    expect(line).toMatchObject({ trace_id: CALLER_TRACE, span_id: server.spanId });
    // Nothing secret in what was exported: no query, no key, no token.
    const exported = JSON.stringify(spans);
    for (const secret of [KEY_ALL, 'secret=1', echoed.headers.authorization?.split(' ')[1] ?? 'no-token'])
      expect(exported).not.toContain(secret);
    expect(receiver.contentTypes).toEqual(new Set([protocol === 'http/json' ? 'application/json' : 'application/x-protobuf']));
    expect(receiver.headers[0]['x-receiver-key']).toBe('s3cret value');
  });
});

describe('tracing against a receiver that is down', () => {
  let emulators: ProviderEmulators;
  let gateway: GatewayProcess;
  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await GatewayProcess.start({
      ...emulatorEnv(emulators),
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.close();
  });

  it('never fails a request, and counts the spans it could not export', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${gateway.url}/prio/products`, { headers: { 'x-api-key': KEY_ALL } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await waitUntil(
      async () => ((await metric(gateway.url, 'gateway_trace_spans_dropped_total')) ?? 0) > 0,
      'dropped spans counted',
      20_000,
    );
  });
});

describe('tracing off', () => {
  it('exports the dropped-spans counter at 0 and adds no trace ids to the access line', async () => {
    const emulators = await startProviderEmulators();
    const gateway = await GatewayProcess.start({ ...emulatorEnv(emulators), LOG_LEVEL: 'info' });
    try {
      const res = await fetch(`${gateway.url}/prio/products`, { headers: { 'x-api-key': KEY_ALL, 'x-request-id': 'untraced' } });
      expect(res.status).toBe(200);
      expect(await metric(gateway.url, 'gateway_trace_spans_dropped_total')).toBe(0);
      const line = await gateway.waitForAccessLine('untraced');
      expect(line).not.toHaveProperty('trace_id');
    } finally {
      await gateway.stop();
      await emulators.close();
    }
  });
});

describe.each([
  ['off', {}],
  ['on', { OTEL_TRACES_EXPORTER: 'otlp' }],
])('the built gateway with tracing %s (needs dist/, which scripts/test.mjs builds)', (state, otel) => {
  it(
    state === 'off' ? 'loads nothing of OpenTelemetry but its API' : 'loads the SDK and the exporter',
    async () => {
      const emulators = await startProviderEmulators();
      const port = await freePort();
      const probe = fileURLToPath(new URL('../support/otel-probe.mjs', import.meta.url));
      const gateway = startProcess('node', ['--import', probe, `${ROOT}/dist/apps/gateway/src/main.js`], {
        env: { ...emulatorEnv(emulators), ...otel, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', ENV_FILE: '/dev/null' },
      });
      try {
        await waitForHealth(`http://127.0.0.1:${port}/health`, gateway);
        const res = await fetch(`http://127.0.0.1:${port}/prio/echo`, { headers: { 'x-api-key': KEY_ALL } });
        expect(res.status).toBe(200);
        const loaded = gateway.stderr().match(/^loaded \S+$/gm) ?? [];
        if (state === 'off') expect(loaded).toEqual(['loaded @opentelemetry/api']);
        else
          expect(loaded).toEqual(
            expect.arrayContaining(['loaded @opentelemetry/sdk-trace-node', 'loaded @opentelemetry/exporter-trace-otlp-proto']),
          );
      } finally {
        gateway.kill();
        await emulators.close();
      }
    },
    60_000,
  );
});
