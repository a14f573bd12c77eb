import { cpuSeconds, runJson } from './children.js';
import { CONNECTIONS, DURATION_S, int, log, median, ms, PIPELINING, RUNS, script, WARMUP_S } from './bench-context.js';
import type { LoadResult, LoadSpec } from './load.js';
import { expectOk } from './targets.js';

export async function loadOnce(url: string, headers: Record<string, string>, extra: Partial<LoadSpec> = {}): Promise<LoadResult> {
  const spec: LoadSpec = { mode: 'load', url, headers, connections: CONNECTIONS, pipelining: PIPELINING, duration: DURATION_S, ...extra };
  return runJson<LoadResult>(script('load.js'), [JSON.stringify(spec)], (spec.duration + 30) * 1000);
}

export interface Target {
  label: string;
  url: string;
  headers: Record<string, string>;
  /** The process whose CPU time is charged to each request. */
  pid: number;
}

/** One load run and the CPU time the target's process spent per request meanwhile, in µs. */
export type Run = LoadResult & { cpuUs: number };

/** The median of each figure over the runs (errors summed), the range of req/s, and every run in round order. */
export type Measured = Run & { runs: number; minRps: number; maxRps: number; rounds: Run[] };

export async function runOnce(target: Target, extra: Partial<LoadSpec> = {}): Promise<Run> {
  const before = cpuSeconds(target.pid);
  const result = await loadOnce(target.url, target.headers, extra);
  return { ...result, cpuUs: ((cpuSeconds(target.pid) - before) * 1e6) / result.requests };
}

export function summarise(runs: Run[]): Measured {
  const of = (key: 'rps' | 'p50' | 'p99' | 'max' | 'cpuUs') => median(runs.map((r) => r[key]));
  const sum = (key: 'requests' | 'errors' | 'non2xx') => runs.reduce((n, r) => n + r[key], 0);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const rps = runs.map((r) => r.rps);
  return {
    requests: sum('requests'),
    rps: of('rps'),
    p50: of('p50'),
    p99: of('p99'),
    max: of('max'),
    cpuUs: of('cpuUs'),
    errors: sum('errors'),
    non2xx: sum('non2xx'),
    statuses,
    runs: runs.length,
    minRps: Math.min(...rps),
    maxRps: Math.max(...rps),
    rounds: runs,
  };
}

/** A check that each target answers, then a warm-up run each (returned), so that V8 has settled before anything is measured. */
export async function warmUp(targets: Target[]): Promise<LoadResult[]> {
  const runs: LoadResult[] = [];
  for (const target of targets) {
    await expectOk(target.label, target.url, target.headers);
    const warm = await loadOnce(target.url, target.headers, { duration: WARMUP_S });
    log(
      `${target.label} warm-up: ${warm.rps.toFixed(0)} req/s, ${int(warm.requests)} requests, errors ${warm.errors}, non-2xx ${warm.non2xx}`,
    );
    runs.push(warm);
  }
  return runs;
}

/**
 * The warmed-up targets measured in turns, under the same conditions (connections, duration,
 * whatever else the machine is doing at the time, `extra` load options): `rounds` rounds, every other round in reverse
 * order so that no target always runs right after the same one. On two cores the load generator,
 * the upstream and the proxy share the CPUs, so single runs swing widely; medians of interleaved
 * runs do not favour either side.
 */
export async function interleaved(targets: Target[], rounds = RUNS, extra: Partial<LoadSpec> = {}): Promise<Measured[]> {
  const runs = targets.map((): Run[] => []);
  for (let round = 1; round <= rounds; round++) {
    const order = targets.map((_, i) => i);
    if (round % 2 === 0) order.reverse();
    for (const i of order) {
      const r = await runOnce(targets[i], extra);
      log(
        `${targets[i].label} round ${round}: ${r.rps.toFixed(0)} req/s, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, ${r.cpuUs.toFixed(0)} µs CPU/request, errors ${r.errors}, non-2xx ${r.non2xx}`,
      );
      runs[i].push(r);
    }
  }
  return runs.map(summarise);
}

/** Warm-up, then interleaved rounds. */
export async function compare(targets: Target[], rounds = RUNS): Promise<Measured[]> {
  await warmUp(targets);
  return interleaved(targets, rounds);
}

/**
 * Two warmed-up targets loaded at once in each round (started in alternating order): whatever else
 * the machine does at the time weighs on both alike, so each round's ratio compares like with like.
 */
export async function together(targets: [Target, Target], rounds = RUNS, extra: Partial<LoadSpec> = {}): Promise<Measured[]> {
  const runs = targets.map((): Run[] => []);
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? [0, 1] : [1, 0];
    const results = await Promise.all(order.map((i) => runOnce(targets[i], extra)));
    order.forEach((i, k) => runs[i].push(results[k]));
    const [a, b] = runs.map((r) => r.at(-1)!);
    log(
      `${targets[0].label} and ${targets[1].label} round ${round}: ${a.rps.toFixed(0)} and ${b.rps.toFixed(0)} req/s, ${a.cpuUs.toFixed(0)} and ${b.cpuUs.toFixed(0)} µs CPU/request`,
    );
  }
  return runs.map(summarise);
}
