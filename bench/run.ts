import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  API_KEY,
  CONNECTIONS,
  DURATION_S,
  log,
  ONLY,
  PIPELINING,
  PROFILE,
  repo,
  RUNS,
  script,
  tmp,
  TOTAL_BUDGET_MS,
} from './bench-context.js';
import { killAll, runBench, runJson, stopChild } from './children.js';
import { keptNotes, render } from './report.js';
import { egress, renderEgress } from './sections/egress.js';
import { keyCounts, renderKeyCounts } from './sections/key-counts.js';
import { peers, renderPeers } from './sections/peers.js';
import { profile } from './sections/profile.js';
import { redisHang, renderRedisHang } from './sections/redis-hang.js';
import { proxyOverhead } from './sections/proxy-overhead.js';
import { sharedOrigin } from './sections/shared-origin.js';
import { streaming } from './sections/streaming-memory.js';
import { renderTracing, tracing } from './sections/tracing.js';
import { directAuthorization, startUpstream } from './targets.js';
import type { HotPathResult } from './token-hot-path.js';

/**
 * `npm run bench [-- --profile] [--duration 6] [--connections 50] [--runs 3] [--only keys|peers|reload|redis|egress|tracing]`: the
 * gateway against direct calls and a bare proxy, a cold start under 1,000 concurrent callers, the
 * cost per request with 1, 1,000 and 100,000 API keys and the time to load them, the gateway next to
 * the proxies a user would pick instead (bench/peers/), the token hot path, 200 MiB streamed each way,
 * another provider's latency while 128 uploads trickle on the same origin, p99 while the gateway's
 * Redis hangs (SIGSTOP) next to it healthy, and (with --profile) a CPU
 * profile of the gateway under load, and p99 while a 100,000-key file reloads back to back.
 * `--only keys`, `--only peers`, `--only reload`, `--only redis` `--only egress` (through a local forward proxy) or `--only tracing` (off, 1 % and every request sampled) runs those rows alone and prints them (bench/results.md is left as it is).
 * Prints a report and writes it to bench/results.md. Every server and the load generator run in
 * their own processes; all of them are killed when this one ends.
 */

async function main(): Promise<void> {
  const budget = setTimeout(() => {
    log(`still running after ${TOTAL_BUDGET_MS / 1000} s: giving up`);
    killAll();
    process.exit(1);
  }, TOTAL_BUDGET_MS);
  budget.unref();

  log(
    `${CONNECTIONS} connections, pipelining ${PIPELINING}, ${DURATION_S} s per run, median of ${RUNS} interleaved rounds${PROFILE ? ', with profile' : ''}`,
  );
  if (ONLY === 'reload') {
    process.stdout.write(`\n${keysReloadRow()}\n`);
    return;
  }
  const upstream = await startUpstream();
  const authorization = await directAuthorization(upstream);
  const direct = { 'x-api-key': API_KEY, authorization };
  const viaGateway = { 'x-api-key': API_KEY };
  if (ONLY === 'keys') {
    const rows = await keyCounts(upstream, viaGateway);
    await stopChild(upstream.proc);
    process.stdout.write(`\n${renderKeyCounts(rows).join('\n')}\n`);
    return;
  }
  if (ONLY === 'redis') {
    const row = renderRedisHang(await redisHang(upstream));
    await stopChild(upstream.proc);
    process.stdout.write(`\n${row}\n`);
    return;
  }
  if (ONLY === 'egress') {
    const section = await egress(upstream, viaGateway);
    await stopChild(upstream.proc);
    process.stdout.write(`\n${renderEgress(section).join('\n')}\n`);
    return;
  }
  if (ONLY === 'tracing') {
    const section = await tracing(upstream, viaGateway);
    await stopChild(upstream.proc);
    process.stdout.write(`\n${renderTracing(section).join('\n')}\n`);
    return;
  }
  if (ONLY === 'peers') {
    const section = await peers(upstream, authorization, viaGateway);
    await stopChild(upstream.proc);
    process.stdout.write(`\n${renderPeers(section).join('\n')}\n`);
    return;
  }

  const overhead = await proxyOverhead(upstream, direct, authorization, viaGateway);

  const stream = await streaming(upstream, viaGateway);

  const keyRows = await keyCounts(upstream, viaGateway);
  const peerRows = await peers(upstream, authorization, viaGateway);
  const shared = await sharedOrigin(upstream, viaGateway);
  const redis = await redisHang(upstream);

  log('getToken hot path');
  const hot = await runJson<HotPathResult>(script('token-hot-path.js'), ['--json'], 60_000);

  const profiled = PROFILE ? await profile(upstream, viaGateway) : undefined;
  await stopChild(upstream.proc);

  const reload = keysReloadRow();
  const report = `${render({ ...overhead, stream, keyRows, peerRows, shared, redis, hot, profiled })}\n\n## Reloading 100,000 keys while serving 500 req/s\n\n${reload}`;
  process.stdout.write(`\n${report}\n`);
  const resultsFile = resolve(repo, 'bench/results.md');
  writeFileSync(resultsFile, `${report}\n${keptNotes(resultsFile)}`);
  log(`done; written to bench/results.md${profiled ? `, profile kept in ${profiled.file}` : ''}`);
}

/** The keys-file reload row: its own script starts its own gateway and upstream (bench/keys-reload.ts). */
function keysReloadRow(): string {
  log('keys file reload under load (100,000 keys)');
  return execFileSync(process.execPath, [script('keys-reload.js')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  }).trim();
}

runBench(main, tmp);
