import { int, log, median, ms, RUNS, script } from '../bench-context.js';
import { spawnNode, stopChild } from '../children.js';
import { together, warmUp, type Measured, type Target } from '../measure.js';
import { percent, spread } from '../ratios.js';
import { startGateway, type Upstream } from '../targets.js';

export interface TracingResult {
  /** Tracing off, loaded together with the 1 % one, then with the every-request one. */
  offWithSampled: Measured;
  sampled: Measured;
  offWithAll: Measured;
  all: Measured;
  /** Export requests and bytes the OTLP endpoint received over the whole section. */
  exported: { requests: number; bytes: number };
}

/** The three settings measured: tracing off, on at 1 % of new traces, on for every request. */
const SAMPLED = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' };
const ALL = { OTEL_TRACES_SAMPLER: 'parentbased_always_on' };

/**
 * The same gateway three times, alike but for tracing: off, sampling 1 % of the traces callers
 * start, and sampling all, the last two exporting OTLP/HTTP protobuf to a local endpoint in its own
 * process. Each traced one is loaded at the same time as the untraced one (`--runs` rounds), so that
 * the machine's other work weighs on both alike and each round gives a CPU ratio against off.
 */
export async function tracing(upstream: Upstream, headers: Record<string, string>): Promise<TracingResult> {
  const sink = spawnNode(script('otlp-sink.js'), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolvePort, reject) => {
    sink.once('exit', (code) => reject(new Error(`the OTLP endpoint exited with ${code}`)));
    sink.stdout!.on('data', (chunk: Buffer) => {
      const listening = /^listening (\d+)$/m.exec(chunk.toString());
      if (listening) resolvePort(Number(listening[1]));
    });
  });
  const exporting = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '1000' };
  const gateways = [
    await startGateway(upstream, { logLevel: 'info', name: 'gateway-tracing-off' }),
    await startGateway(upstream, { logLevel: 'info', name: 'gateway-tracing-1pc', env: { ...exporting, ...SAMPLED } }),
    await startGateway(upstream, { logLevel: 'info', name: 'gateway-tracing-all', env: { ...exporting, ...ALL } }),
  ];
  try {
    const labels = ['tracing off', 'tracing on, 1 % sampled', 'tracing on, every request sampled'];
    const [off, on1, onAll]: Target[] = gateways.map((g, i) => ({
      label: labels[i],
      url: `${g.url}/prio/echo`,
      headers,
      pid: g.proc.pid!,
    }));
    await warmUp([off, on1, onAll]);
    const [offWithSampled, sampled] = await together([off, on1], RUNS);
    const [offWithAll, all] = await together([off, onAll], RUNS);
    const exported = (await (await fetch(`http://127.0.0.1:${port}/count`)).json()) as TracingResult['exported'];
    log(
      `tracing: 1 % ${sampled.cpuUs.toFixed(0)} µs against ${offWithSampled.cpuUs.toFixed(0)}, all ${all.cpuUs.toFixed(0)} µs against ${offWithAll.cpuUs.toFixed(0)}`,
    );
    return { offWithSampled, sampled, offWithAll, all, exported };
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await stopChild(sink);
  }
}

export function renderTracing({ offWithSampled, sampled, offWithAll, all, exported }: TracingResult): string[] {
  const ratios = (m: Measured, off: Measured) => m.rounds.map((r, i) => r.cpuUs / off.rounds[i].cpuUs);
  const row = (label: string, m: Measured, off?: Measured) =>
    `| ${label} | ${int(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${m.cpuUs.toFixed(1)} | ${off === undefined ? '1' : `${median(ratios(m, off)).toFixed(3)} (${percent(median(ratios(m, off)))})`} | ${m.errors + m.non2xx} |`;
  return [
    '## Tracing on and off',
    '',
    `Three gateways alike but for OpenTelemetry: off, \`parentbased_traceidratio\` 0.01 and \`parentbased_always_on\`, ` +
      `exporting OTLP/HTTP protobuf to a local endpoint (export every 1 s). Each traced gateway is loaded at the same time as the ` +
      `untraced one, ${sampled.runs} rounds each; "CPU ÷ off" is the median of the rounds' ratios; CPU is the gateway's own.`,
    '',
    '| target | req/s | p50 ms | p99 ms | gateway CPU µs/request | CPU ÷ off | errors + non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('tracing off (with the 1 % one)', offWithSampled),
    row('tracing on, 1 % sampled', sampled, offWithSampled),
    row('tracing off (with the every-request one)', offWithAll),
    row('tracing on, every request sampled', all, offWithAll),
    '',
    spread('1 % sampled ÷ off', ratios(sampled, offWithSampled), 0.05),
    spread('every request sampled ÷ off', ratios(all, offWithAll), 0.05),
    `The endpoint received ${int(exported.requests)} export requests, ${int(exported.bytes)} bytes.`,
  ];
}
