import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { API_KEY, int, KEY_COUNTS, log, median, mib, ms, RUNS, tmp, verdict } from '../bench-context.js';
import { rssBytes } from '../children.js';
import { writeKeysFile } from '../keys-file.js';
import { compare, type Measured } from '../measure.js';
import { startGateway, type Gateway, type Upstream } from '../targets.js';

export interface KeyCountRow {
  keys: number;
  measured: Measured;
  /** From spawning the gateway to its first 200 on /health (the file is read and validated before it listens). */
  startMs: number;
  /** The `ms` of its `API keys loaded` line after a SIGHUP: reading, parsing, validating and indexing the file. */
  reloadMs: number;
  rss: number;
}

/**
 * The cost of a request as the number of API keys grows: gateways alike but for their keys file
 * (1, 1,000 and 100,000 callers, the bench's key first), measured in turns as the rows above are.
 * Each is sent one SIGHUP first, and its reload time read from its log.
 */
export async function keyCounts(upstream: Upstream, headers: Record<string, string>): Promise<KeyCountRow[]> {
  const started: Array<{ keys: number; gateway: Gateway; startMs: number; reloadMs: number }> = [];
  for (const keys of KEY_COUNTS) {
    const file = join(tmp, `keys-${keys}.yaml`);
    writeKeysFile(file, keys, API_KEY);
    const t = performance.now();
    const gateway = await startGateway(upstream, { logLevel: 'info', name: `gateway-keys-${keys}`, keysFile: file });
    const startMs = performance.now() - t;
    const reloadMs = await reloadOnHangup(gateway);
    log(`${int(keys)} keys: serving ${(startMs / 1000).toFixed(1)} s after spawn, SIGHUP reload ${int(reloadMs)} ms`);
    started.push({ keys, gateway, startMs, reloadMs });
  }
  const measured = await compare(
    started.map(({ keys, gateway }) => ({
      label: `gateway, ${int(keys)} keys`,
      url: `${gateway.url}/prio/echo`,
      headers,
      pid: gateway.proc.pid!,
    })),
  );
  const rows = started.map(({ keys, gateway, startMs, reloadMs }, i) => ({
    keys,
    measured: measured[i],
    startMs,
    reloadMs,
    rss: rssBytes(gateway.proc.pid!),
  }));
  for (const { gateway } of started) await gateway.stop();
  return rows;
}

/** Sends SIGHUP and waits (≤ 2 min) for the gateway to log the reload; its `ms`. */
export async function reloadOnHangup(gateway: Gateway): Promise<number> {
  const reloads = () =>
    existsSync(gateway.logFile)
      ? readFileSync(gateway.logFile, 'utf8')
          .split('\n')
          .filter((line) => line.includes('"msg":"API keys loaded"') && line.includes('"trigger":"SIGHUP"'))
      : [];
  gateway.proc.kill('SIGHUP');
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const [line] = reloads();
    if (line) return (JSON.parse(line) as { ms: number }).ms;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${gateway.url}: no reload logged within 2 min of SIGHUP`);
}

export function renderKeyCounts(rows: KeyCountRow[]): string[] {
  const [one] = rows;
  const largest = rows[rows.length - 1];
  const cpuRatio = median(largest.measured.rounds.map((run, i) => run.cpuUs / one.measured.rounds[i].cpuUs));
  return [
    `## Cost per request by number of API keys`,
    '',
    `Gateways alike (LOG_LEVEL=info, production, warm start) but for their GATEWAY_API_KEYS_FILE, measured in turns as above ` +
      `(${RUNS} rounds, medians); the bench's key is one of them, the others unknown digests. Start-up: from spawning the process to its ` +
      `first 200 on /health. Reload: the \`ms\` the gateway logs after a SIGHUP (read, parse, validate, index, swap).`,
    '',
    '| keys | req/s (median) | p99 ms | CPU µs/request | CPU / 1 key (paired rounds) | start-up | reload (SIGHUP) | RSS after the runs |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${int(r.keys)} | ${int(r.measured.rps)} | ${ms(r.measured.p99)} | ${r.measured.cpuUs.toFixed(0)} | ` +
        `${median(r.measured.rounds.map((run, i) => run.cpuUs / one.measured.rounds[i].cpuUs)).toFixed(2)} | ` +
        `${(r.startMs / 1000).toFixed(1)} s | ${int(r.reloadMs)} ms | ${mib(r.rss)} |`,
    ),
    '',
    '| check | measured | target | |',
    '|---|---|---|---|',
    `| CPU per request, ${int(largest.keys)} keys / 1 key, median of the ${RUNS} paired rounds | ${cpuRatio.toFixed(2)} (rounds: ${largest.measured.rounds.map((run, i) => (run.cpuUs / one.measured.rounds[i].cpuUs).toFixed(2)).join(', ')}) | ≤ 1.15 | ${verdict(cpuRatio <= 1.15)} |`,
    `| loading ${int(largest.keys)} keys (SIGHUP reload) | ${(largest.reloadMs / 1000).toFixed(1)} s | < 10 s | ${verdict(largest.reloadMs < 10_000)} |`,
  ];
}
