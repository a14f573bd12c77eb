import { existsSync, readFileSync } from 'node:fs';
import { cpus, release, type as osType } from 'node:os';
import {
  CALLERS,
  CONNECTIONS,
  DURATION_S,
  FIXED_RATE,
  FIXED_ROUNDS,
  int,
  median,
  mib,
  ms,
  PIPELINING,
  PRETENURING,
  PROFILE_S,
  RUNS,
  SHARED_ORIGIN_RATE,
  signed,
  TRICKLING_UPLOADS,
  verdict,
  WARMUP_S,
} from './bench-context.js';
import type { Measured, Run } from './measure.js';
import { renderSummary } from './profile-summary.js';
import { renderKeyCounts, type KeyCountRow } from './sections/key-counts.js';
import { renderPeers, type PeerSection } from './sections/peers.js';
import type { OverheadResult } from './sections/proxy-overhead.js';
import type { ProfileRun } from './sections/profile.js';
import { renderRedisHang, type RedisHangResult } from './sections/redis-hang.js';
import type { SharedOriginResult } from './sections/shared-origin.js';
import type { StreamResult } from './sections/streaming-memory.js';
import type { Transfer } from './streaming.js';
import type { HotPathResult } from './token-hot-path.js';

/** The report `npm run bench` prints and writes to bench/results.md. */

/** The notes written by hand below NOTES_MARKER (history, A/B runs) survive a new report. */
export const NOTES_MARKER = '<!-- Notes below this line are kept when npm run bench rewrites the report above. -->';
export function keptNotes(file: string): string {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = previous.indexOf(NOTES_MARKER);
  return at >= 0 ? `\n${previous.slice(at)}` : `\n${NOTES_MARKER}\n`;
}

/** Every section's figures, as the full run collects them. */
export interface Results extends OverheadResult {
  stream: StreamResult;
  keyRows: KeyCountRow[];
  peerRows: PeerSection;
  shared: SharedOriginResult;
  redis: RedisHangResult;
  hot: HotPathResult;
  profiled?: ProfileRun;
}

export function render(r: Results): string {
  const cpu = cpus();
  const row = (name: string, x: Measured, cpuOf: string, note = '') =>
    `| ${name} | ${int(x.rps)} | ${int(x.minRps)}–${int(x.maxRps)} | ${ms(x.p50)} | ${ms(x.p99)} | ${x.cpuUs.toFixed(0)} (${cpuOf}) | ${int(x.errors)} | ${int(x.non2xx)} | ${note} |`;
  // Each round's gateway run is next to its bare run: their ratio is free of the machine's drift between rounds.
  const paired = (of: (gateway: Run, bare: Run) => number) => median(r.infoResult.rounds.map((run, i) => of(run, r.bareResult.rounds[i])));
  const ratio = paired((g, b) => g.rps / b.rps);
  const p99Delta = paired((g, b) => g.p99 - b.p99);
  const fixedDelta = median(r.gatewayFixed.map((g, i) => g.p99 - r.bareFixed[i].p99));
  const warnRatio = r.warnResult.rps / r.bareResult.rps;
  const logCost = 1 - r.infoResult.rps / r.warnResult.rps;
  const cpuRatio = paired((g, b) => g.cpuUs / b.cpuUs);
  const perRound = (of: (gateway: Run, bare: Run) => number, digits: number) =>
    r.infoResult.rounds.map((run, i) => of(run, r.bareResult.rounds[i]).toFixed(digits)).join(', ');
  const transferOk = (t: Transfer) => t.status === 200 && t.bytes === t.expected.bytes && t.sha256 === t.expected.sha256;
  const transferNote = (t: Transfer & { growth: number; baseline: number }) =>
    `${mib(t.growth)} (baseline ${mib(t.baseline)}); ${transferOk(t) ? 'bytes and sha256 match' : `MISMATCH: status ${t.status}, ${t.bytes} vs ${t.expected.bytes} bytes`}; ${(t.bytes / 1024 / 1024 / (t.ms / 1000)).toFixed(0)} MiB/s`;
  const hot = r.hot;
  const redisLine =
    'skipped' in hot.redis
      ? `| getToken hot path, Redis-backed (local copy) | skipped: ${hot.redis.skipped} | ≥ 1,000,000 ops/s | – |`
      : `| getToken hot path, Redis-backed (local copy) | ${int(hot.redis.opsPerSec)} ops/s, ${hot.redis.redisCommands} Redis commands during the run | ≥ 1,000,000 ops/s, 0 commands | ${verdict(hot.redis.opsPerSec >= 1_000_000 && hot.redis.redisCommands === 0)} |`;
  const lines = [
    '# Gateway benchmark',
    '',
    `${new Date().toISOString()} · Node ${process.version} · ${osType()} ${release()} · ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}`,
    '',
    `Load: autocannon in its own process, ${CONNECTIONS} connections, pipelining ${PIPELINING}, ${DURATION_S} s per run. ` +
      `Upstream emulator, bare proxy and four gateways run at the same time, each in its own process, and are measured in turns: ` +
      `a ${WARMUP_S} s warm-up each, then ${RUNS} rounds (every other one in reverse order); each figure is the median of its ${RUNS} runs, ` +
      `req/s also with its range. CPU µs/request: user + system time of the process under test during its runs, per request. ` +
      `Request: \`GET …/echo\` (the emulator validates the token and echoes the request as JSON). Gateway: \`NODE_ENV=production\`, ` +
      `started as \`npm run start:prod\` does, token cached, access log to a file; the info and warn gateways are started alike (warm start), ` +
      `the last two are the ones that took the cold burst of ${int(CALLERS)} callers. Latencies are per response, in ms.`,
    '',
    '| target | req/s (median) | req/s range | p50 ms | p99 ms | CPU µs/request | errors | non-2xx | |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    row('direct → upstream emulator', r.directResult, 'upstream'),
    row('bare node:http proxy (floor)', r.bareResult, 'proxy', '1.00 × bare'),
    row(
      'gateway, LOG_LEVEL=info (production)',
      r.infoResult,
      'gateway',
      `${ratio.toFixed(2)} × bare; ${int(r.accessLines)} access lines written`,
    ),
    row(
      'gateway, LOG_LEVEL=warn',
      r.warnResult,
      'gateway',
      `${warnRatio.toFixed(2)} × bare; the access log costs ${(logCost * 100).toFixed(1)}% of throughput`,
    ),
    row(
      'gateway, LOG_LEVEL=info, after the cold burst',
      r.burstedResult,
      'gateway',
      `${(r.burstedResult.rps / r.bareResult.rps).toFixed(2)} × bare`,
    ),
    row(
      `same, run with \`${PRETENURING}\` (V8's default)`,
      r.pretenuredResult,
      'gateway',
      `${(r.pretenuredResult.rps / r.bareResult.rps).toFixed(2)} × bare`,
    ),
    '',
    `With V8's allocation-site pretenuring on (last row), the burst leaves V8 pretenuring the allocation sites that ${int(CALLERS)} ` +
      `concurrent (so long-lived) requests went through: from then on short-lived request objects are allocated in the old generation, ` +
      `scavenges keep what they point to alive and promote it, and GC costs more per request. The gateway turns it off at start-up ` +
      `(\`apps/gateway/src/v8-flags.ts\`), so the row above it is how a gateway that took such a burst runs.`,
    '',
    `At a fixed ${FIXED_RATE} req/s (10 connections, below saturation; ${FIXED_ROUNDS} rounds of ${DURATION_S} s, bare and gateway (info) ` +
      `alternating): medians bare p50 ${ms(median(r.bareFixed.map((x) => x.p50)))} / p99 ${ms(median(r.bareFixed.map((x) => x.p99)))} ms, ` +
      `gateway p50 ${ms(median(r.gatewayFixed.map((x) => x.p50)))} / p99 ${ms(median(r.gatewayFixed.map((x) => x.p99)))} ms.`,
    '',
    '| check | measured | target | |',
    '|---|---|---|---|',
    `| gateway throughput / bare (LOG_LEVEL=info), median of the ${RUNS} rounds | ${ratio.toFixed(2)} (rounds: ${perRound((g, b) => g.rps / b.rps, 2)}) | ≥ 0.85 | ${verdict(ratio >= 0.85)} |`,
    `| gateway CPU per request / bare (not a target: what the throughput ratio tends to when the proxy is the bottleneck) | ${cpuRatio.toFixed(2)} (rounds: ${perRound((g, b) => g.cpuUs / b.cpuUs, 2)}) | – | – |`,
    `| gateway p99 − bare p99 at saturation, median of the ${RUNS} rounds | ${signed(p99Delta)} ms (rounds: ${perRound((g, b) => g.p99 - b.p99, 1)}) | ≤ +2 ms | ${verdict(p99Delta <= 2)} |`,
    `| gateway p99 − bare p99 at ${FIXED_RATE} req/s, median of the ${FIXED_ROUNDS} rounds | ${signed(fixedDelta)} ms (rounds: ${r.gatewayFixed.map((g, i) => (g.p99 - r.bareFixed[i].p99).toFixed(1)).join(', ')}) | ≤ +2 ms | ${verdict(fixedDelta <= 2)} |`,
    `| token requests, cold start with ${int(r.burst.callers)} concurrent callers | ${r.coldTokenRequests} (${r.burst.ok} × 2xx, ${JSON.stringify(r.burst.statuses)}; p50 ${ms(r.burst.p50)} ms, p99 ${ms(r.burst.p99)} ms, max ${ms(r.burst.max)} ms) | 1 | ${verdict(r.coldTokenRequests === 1 && r.burst.ok === r.burst.callers)} |`,
    `| getToken hot path, in-memory | ${int(hot.inMemory)} ops/s | ≥ 1,000,000 ops/s | ${verdict(hot.inMemory >= 1_000_000)} |`,
    redisLine,
    `| RSS growth, 200 MiB download | ${transferNote(r.stream.download)} | < 64 MiB | ${verdict(r.stream.download.growth < 64 * 1024 * 1024 && transferOk(r.stream.download))} |`,
    `| RSS growth, 200 MiB upload (chunked) | ${transferNote(r.stream.upload)} | < 64 MiB | ${verdict(r.stream.upload.growth < 64 * 1024 * 1024 && transferOk(r.stream.upload))} |`,
    `| another provider on the same origin while ${TRICKLING_UPLOADS} uploads trickle to one (GET at ${SHARED_ORIGIN_RATE} req/s) | p50 ${ms(r.shared.held.p50)} / p99 ${ms(r.shared.held.p99)} ms with ${r.shared.stillHeld} uploads held (without: p50 ${ms(r.shared.idle.p50)} / p99 ${ms(r.shared.idle.p99)} ms); ${int(r.shared.held.errors)} errors, ${int(r.shared.held.non2xx)} non-2xx | served, not queued behind them | ${verdict(r.shared.stillHeld === TRICKLING_UPLOADS && r.shared.held.errors === 0 && r.shared.held.non2xx === 0)} |`,
    renderRedisHang(r.redis),
  ];
  lines.push('', ...renderKeyCounts(r.keyRows), '', ...renderPeers(r.peerRows));
  if (r.profiled) {
    const p = r.profiled;
    lines.push(
      '',
      `## CPU profile of the gateway (LOG_LEVEL=info, ${PROFILE_S} s at ${CONNECTIONS} connections: ${int(p.load.rps)} req/s under --cpu-prof)`,
      '',
      renderSummary(p.summary, p.load.requests),
    );
  }
  return lines.join('\n');
}
