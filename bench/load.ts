import autocannon, { type Result as AutocannonResult } from 'autocannon';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * The load generator, always in its own process so that it never shares an event loop with a
 * server under test. `node load.js '<json>'` prints one JSON line:
 * - `{ mode: 'load', url, headers, connections, pipelining, duration, overallRate? }`: autocannon;
 *   latencies are recorded from every response at sub-millisecond resolution (autocannon's own
 *   histogram rounds to whole milliseconds).
 * - `{ mode: 'burst', url, headers, callers }`: opens `callers` connections first, then sends one
 *   request on each in the same tick, and times every answer from its own write.
 */
export interface LoadSpec {
  mode: 'load';
  url: string;
  headers: Record<string, string>;
  connections: number;
  pipelining: number;
  duration: number;
  overallRate?: number;
}

export interface BurstSpec {
  mode: 'burst';
  url: string;
  headers: Record<string, string>;
  callers: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  statuses: Record<string, number>;
}

export interface BurstResult {
  callers: number;
  ok: number;
  statuses: Record<string, number>;
  connectMs: number;
  p50: number;
  p99: number;
  max: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function load(spec: LoadSpec): Promise<LoadResult> {
  // Growable store for latencies: ~50k-200k floats in a run.
  let latencies = new Float64Array(1 << 18);
  let count = 0;
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        headers: spec.headers,
        connections: spec.connections,
        pipelining: spec.pipelining,
        duration: spec.duration,
        overallRate: spec.overallRate,
        timeout: 10,
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = responseTime;
    });
  });
  const sorted = latencies.subarray(0, count).sort();
  const statuses: Record<string, number> = {};
  for (const [code, { count: n }] of Object.entries(result.statusCodeStats)) statuses[code] = n;
  return {
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statuses,
  };
}

/** One HTTP/1.1 exchange on an open socket: status and time to the end of the answer. */
function exchange(socket: Socket, request: Buffer, timeoutMs: number): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    let started = 0;
    let finished = false;
    const done = (status: number) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      resolve({ status, ms: performance.now() - started });
    };
    const timer = setTimeout(() => done(0), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = buffered.subarray(0, headEnd).toString('latin1');
      const status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const body = buffered.length - headEnd - 4;
      if (length ? body >= Number(length[1]) : buffered.subarray(-5).toString() === '0\r\n\r\n') done(status);
    });
    socket.once('close', () => done(0));
    started = performance.now();
    socket.write(request);
  });
}

async function burst(spec: BurstSpec): Promise<BurstResult> {
  const url = new URL(spec.url);
  const connectStarted = performance.now();
  const sockets: Socket[] = [];
  // In batches: a thousand SYNs at once would overflow the listen backlog and wait out SYN retries.
  for (let i = 0; i < spec.callers; i += 100) {
    const batch = Array.from(
      { length: Math.min(100, spec.callers - i) },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
          socket.setNoDelay(true);
          socket.once('error', reject);
        }),
    );
    sockets.push(...(await Promise.all(batch)));
  }
  const connectMs = performance.now() - connectStarted;
  const headerLines = Object.entries({ host: url.host, ...spec.headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  const request = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\n${headerLines.join('')}\r\n`);
  // Every request is written in this one synchronous loop: they all arrive before any is answered.
  const answers = await Promise.all(sockets.map((socket) => exchange(socket, request, 30_000)));
  for (const socket of sockets) socket.destroy();
  const statuses: Record<string, number> = {};
  for (const { status } of answers) statuses[status] = (statuses[status] ?? 0) + 1;
  const sorted = Float64Array.from(answers, (a) => a.ms).sort();
  return {
    callers: spec.callers,
    ok: answers.filter((a) => a.status >= 200 && a.status < 300).length,
    statuses,
    connectMs,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec | BurstSpec;
  const result = spec.mode === 'burst' ? await burst(spec) : await load(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
