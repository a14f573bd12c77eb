import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, type as osType, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { prio, type TokenHttpClient } from '@oauth-gateway/oauth-providers';
import {
  cpuSeconds,
  freePort,
  killAll,
  LogPipe,
  nextMessage,
  RssSampler,
  rssBytes,
  runJson,
  spawnNode,
  stopChild,
  waitForHttp,
} from './children.js';
import { writeKeysFile } from './keys-file.js';
import { findNginx, NGINX_SKIPPED, startNginx, type Nginx } from './peers/nginx.js';
import type { BurstResult, BurstSpec, LoadResult, LoadSpec } from './load.js';
import { renderSummary, summariseProfileFile, type ProfileSummary } from './profile-summary.js';
import { download, upload, type Transfer } from './streaming.js';
import type { HotPathResult } from './token-hot-path.js';
import { trickleUploads } from './trickling-uploads.js';

/**
 * `npm run bench [-- --profile] [--duration 6] [--connections 50] [--runs 3] [--only keys|peers]`: the
 * gateway against direct calls and a bare proxy, a cold start under 1,000 concurrent callers, the
 * cost per request with 1, 1,000 and 100,000 API keys and the time to load them, the gateway next to
 * the proxies a user would pick instead (bench/peers/), the token hot path, 200 MiB streamed each way,
 * another provider's latency while 128 uploads trickle on the same origin, and (with --profile) a CPU
 * profile of the gateway under load.
 * `--only keys` or `--only peers` runs those rows alone and prints them (bench/results.md is left as it is).
 * Prints a report and writes it to bench/results.md. Every server and the load generator run in
 * their own processes; all of them are killed when this one ends.
 */

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const repo = resolve(here, '../..');
const GATEWAY_MAIN = resolve(repo, 'dist/apps/gateway/src/main.js');
const script = (name: string) => join(here, name);

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}
const PROFILE = process.argv.includes('--profile');
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'keys' && ONLY !== 'peers') throw new Error('--only takes keys or peers');
const KEY_COUNTS = [1, 1000, 100_000];
const DURATION_S = option('duration', 3);
const CONNECTIONS = option('connections', 50);
const RUNS = option('runs', 9);
/** On a 2-core VM, V8 needs this long under load before a process's CPU per request stops falling. */
const WARMUP_S = 8;
const PIPELINING = 1;
const CALLERS = 1000;
const STREAM_BYTES = 200 * 1024 * 1024;
const PROFILE_S = 10;
const FIXED_RATE = 1000;
const FIXED_ROUNDS = 5;
/** Uploads that trickle to one provider while another provider on the same origin is measured. */
const TRICKLING_UPLOADS = 128;
const SHARED_ORIGIN_RATE = 500;
const API_KEY = 'bench-key';
/** V8's default, which the gateway turns off (apps/gateway/src/v8-flags.ts): given explicitly, it is left on. */
const PRETENURING = '--allocation-site-pretenuring';
const TOTAL_BUDGET_MS = 18 * 60_000;

const tmp = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
const t0 = performance.now();

interface Upstream {
  proc: ChildProcess;
  url: string;
  prio: { tokenUrl: string; apiUrl: string; clientId: string; clientSecret: string };
  oauth2: { tokenUrl: string; apiUrl: string; clientId: string; clientSecret: string };
  tokenRequests(): Promise<number>;
}

async function startUpstream(): Promise<Upstream> {
  const proc = spawnNode(script('upstream.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await nextMessage<{ ready: true; url: string; prio: Upstream['prio']; oauth2: Upstream['oauth2'] }>(
    proc,
    (m) => m.ready,
    15_000,
    'upstream emulator',
  );
  let id = 0;
  return {
    proc,
    url: ready.url,
    prio: ready.prio,
    oauth2: ready.oauth2,
    async tokenRequests() {
      const ask = ++id;
      const answer = nextMessage<{ id: number; count: number }>(proc, (m) => m.id === ask, 5000, 'upstream token count');
      proc.send({ id: ask, tokenRequests: 'prio' });
      return (await answer).count;
    },
  };
}

async function startBareProxy(upstream: Upstream, authorization: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawnNode(script('bare-proxy.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH, BARE_UPSTREAM: upstream.prio.apiUrl, BARE_HEADER: `authorization: ${authorization}` },
  });
  const ready = await nextMessage<{ ready: true; url: string }>(proc, (m) => m.ready, 10_000, 'bare proxy');
  return { proc, url: ready.url };
}

/** A Node peer of the gateway (bench/peers/), told its upstream and the fixed Authorization header it adds. */
async function startPeer(file: string, upstream: Upstream, authorization: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawnNode(script(file), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PEER_UPSTREAM: upstream.prio.apiUrl, PEER_AUTHORIZATION: authorization },
  });
  const ready = await nextMessage<{ ready: true; url: string }>(proc, (m) => m.ready, 20_000, file);
  return { proc, url: ready.url };
}

interface Gateway {
  proc: ChildProcess;
  url: string;
  logFile: string;
  /** With `logPipe`: the log lines read from its stdout (a named pipe) so far. */
  logLines(): number;
  startedAt: number;
  stop(): Promise<void>;
}

/** `node dist/apps/gateway/src/main.js` as in production, pointed at the upstream with PRIO_* variables. */
async function startGateway(
  upstream: Upstream,
  opts: {
    logLevel: string;
    logPipe?: boolean;
    maxBodyBytes?: number;
    execArgv?: string[];
    name: string;
    warmOnStart?: boolean;
    keysFile?: string;
    env?: Record<string, string>;
  },
): Promise<Gateway> {
  const port = await freePort();
  const logFile = join(tmp, `${opts.name}.log`);
  const pipe = opts.logPipe ? new LogPipe(join(tmp, `${opts.name}.fifo`)) : undefined;
  const logFd = pipe ? pipe.openWriter() : openSync(logFile, 'w');
  let stderr = '';
  const startedAt = performance.now();
  const proc = spawnNode(GATEWAY_MAIN, [], {
    execArgv: opts.execArgv,
    // A clean directory: main.ts would load a .env from its working directory.
    cwd: tmp,
    // Access lines go to a file, as a log shipper would take them, or to a pipe read as a container runtime reads it.
    stdio: ['ignore', logFd, 'pipe'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: opts.logLevel,
      SANDBOX: 'false',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...(opts.keysFile === undefined ? { GATEWAY_API_KEYS: API_KEY } : { GATEWAY_API_KEYS_FILE: opts.keysFile }),
      PRIO_TOKEN_URL: upstream.prio.tokenUrl,
      PRIO_API_URL: upstream.prio.apiUrl,
      PRIO_CLIENT_ID: upstream.prio.clientId,
      PRIO_CLIENT_SECRET: upstream.prio.clientSecret,
      ...(opts.maxBodyBytes !== undefined && { MAX_BODY_BYTES: String(opts.maxBodyBytes) }),
      ...(opts.warmOnStart === false && { TOKEN_WARM_ON_START: 'false' }),
      ...opts.env,
    },
  });
  closeSync(logFd);
  proc.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, proc, 60_000, () => stderr);
  const stop = async () => {
    await stopChild(proc, 10_000);
    pipe?.close();
  };
  return { proc, url, logFile, logLines: () => pipe?.lines() ?? 0, startedAt, stop };
}

async function loadOnce(url: string, headers: Record<string, string>, extra: Partial<LoadSpec> = {}): Promise<LoadResult> {
  const spec: LoadSpec = { mode: 'load', url, headers, connections: CONNECTIONS, pipelining: PIPELINING, duration: DURATION_S, ...extra };
  return runJson<LoadResult>(script('load.js'), [JSON.stringify(spec)], (spec.duration + 30) * 1000);
}

interface Target {
  label: string;
  url: string;
  headers: Record<string, string>;
  /** The process whose CPU time is charged to each request. */
  pid: number;
}

/** One load run and the CPU time the target's process spent per request meanwhile, in µs. */
type Run = LoadResult & { cpuUs: number };

/** The median of each figure over the runs (errors summed), the range of req/s, and every run in round order. */
type Measured = Run & { runs: number; minRps: number; maxRps: number; rounds: Run[] };

async function runOnce(target: Target, extra: Partial<LoadSpec> = {}): Promise<Run> {
  const before = cpuSeconds(target.pid);
  const result = await loadOnce(target.url, target.headers, extra);
  return { ...result, cpuUs: ((cpuSeconds(target.pid) - before) * 1e6) / result.requests };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function summarise(runs: Run[]): Measured {
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

/**
 * The targets measured in turns, under the same conditions (connections, duration, whatever else
 * the machine is doing at the time): a warm-up run each, then `RUNS` rounds, every other round in
 * reverse order so that no target always runs right after the same one. On two cores the load
 * generator, the upstream and the proxy share the CPUs, so single runs swing widely; medians of
 * interleaved runs do not favour either side.
 */
async function compare(targets: Target[]): Promise<Measured[]> {
  for (const target of targets) {
    await expectOk(target.label, target.url, target.headers);
    const warm = await loadOnce(target.url, target.headers, { duration: WARMUP_S });
    log(
      `${target.label} warm-up: ${warm.rps.toFixed(0)} req/s, ${int(warm.requests)} requests, errors ${warm.errors}, non-2xx ${warm.non2xx}`,
    );
  }
  const runs = targets.map((): Run[] => []);
  for (let round = 1; round <= RUNS; round++) {
    const order = targets.map((_, i) => i);
    if (round % 2 === 0) order.reverse();
    for (const i of order) {
      const r = await runOnce(targets[i]);
      log(
        `${targets[i].label} round ${round}: ${r.rps.toFixed(0)} req/s, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, ${r.cpuUs.toFixed(0)} µs CPU/request, errors ${r.errors}, non-2xx ${r.non2xx}`,
      );
      runs[i].push(r);
    }
  }
  return runs.map(summarise);
}

async function expectOk(label: string, url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${label}: ${url} answered ${res.status} before the run: ${body.slice(0, 300)}`);
}

/** A token for the direct calls and the bare proxy, from the emulator's token endpoint. */
async function directAuthorization(upstream: Upstream): Promise<string> {
  const http: TokenHttpClient = {
    post: async (_provider, req) => {
      const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(5000) });
      return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
    },
  };
  const grant = await prio({
    tokenUrl: upstream.prio.tokenUrl,
    clientId: upstream.prio.clientId,
    clientSecret: upstream.prio.clientSecret,
  }).requestToken({ http });
  return `Bearer ${grant.accessToken}`;
}

function countLines(file: string, needle: string): number {
  if (!existsSync(file)) return 0;
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

interface StreamResult {
  download: Transfer & { growth: number; baseline: number };
  upload: Transfer & { growth: number; baseline: number };
}

async function streaming(gateway: Gateway, headers: Record<string, string>): Promise<StreamResult> {
  const pid = gateway.proc.pid!;
  // Warm the paths first (token, pools, JIT), so the growth is the transfer's and not the first request's.
  await expectOk('gateway warm-up', `${gateway.url}/prio/echo`, headers);
  await download(`${gateway.url}/prio/bytes/${1024 * 1024}`, headers, 1024 * 1024);
  await upload(`${gateway.url}/prio/upload`, headers, 1024 * 1024);
  const measured = async (work: () => Promise<Transfer>) => {
    const sampler = new RssSampler(pid, 50);
    const baseline = await sampler.baseline(300);
    sampler.start();
    const transfer = await work();
    const peak = sampler.stop();
    return { ...transfer, baseline, growth: peak - baseline };
  };
  const down = await measured(() => download(`${gateway.url}/prio/bytes/${STREAM_BYTES}`, headers, STREAM_BYTES));
  log(`download: ${down.status}, ${mib(down.bytes)} in ${down.ms.toFixed(0)} ms, RSS +${mib(down.growth)}`);
  const up = await measured(() => upload(`${gateway.url}/prio/upload`, headers, STREAM_BYTES));
  log(`upload: ${up.status}, ${mib(up.bytes)} in ${up.ms.toFixed(0)} ms, RSS +${mib(up.growth)}`);
  return { download: down, upload: up };
}

interface KeyCountRow {
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
async function keyCounts(upstream: Upstream, headers: Record<string, string>): Promise<KeyCountRow[]> {
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
async function reloadOnHangup(gateway: Gateway): Promise<number> {
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

function renderKeyCounts(rows: KeyCountRow[]): string[] {
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

interface PeerSection {
  rows: Array<{ label: string; cpuOf: string; measured: Measured }>;
  /** Log lines the gateway wrote to its pipe, and access lines nginx wrote to its, during the runs. */
  gatewayLogLines: number;
  nginxAccessLines?: number;
  nginxSkipped?: string;
}

/** A dependency's version as installed, for the row labels. */
function versionOf(name: string): string {
  return (JSON.parse(readFileSync(resolve(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The gateway next to the proxies a user would pick instead, each in its own process, measured in
 * turns as the rows above are: the bare node:http proxy, Fastify with @fastify/http-proxy, Nest with
 * http-proxy-middleware, and nginx with one worker when it is on PATH. The peers add the token the
 * bench fetched once as a fixed header; the gateway serves it from its cache.
 */
async function peers(upstream: Upstream, authorization: string, headers: Record<string, string>): Promise<PeerSection> {
  const gateway = await startGateway(upstream, { logLevel: 'info', logPipe: true, name: 'gateway-peers' });
  const bare = await startBareProxy(upstream, authorization);
  const fastify = await startPeer('peers/fastify-proxy.js', upstream, authorization);
  const nest = await startPeer('peers/nest-express-proxy.js', upstream, authorization);
  const binary = findNginx();
  let nginx: Nginx | undefined;
  try {
    nginx = binary ? await startNginx(binary, { upstream: upstream.prio.apiUrl, authorization, parent: tmp }) : undefined;
    if (!nginx) log(NGINX_SKIPPED);
    const targets = [
      {
        label: 'gateway, LOG_LEVEL=info, log to a pipe',
        cpuOf: 'gateway',
        url: `${gateway.url}/prio/echo`,
        headers,
        pid: gateway.proc.pid!,
      },
      { label: 'bare node:http proxy', cpuOf: 'proxy', url: `${bare.url}/echo`, headers, pid: bare.proc.pid! },
      {
        label: `Fastify ${versionOf('fastify')} + @fastify/http-proxy ${versionOf('@fastify/http-proxy')}`,
        cpuOf: 'proxy',
        url: `${fastify.url}/echo`,
        headers,
        pid: fastify.proc.pid!,
      },
      {
        label: `Nest ${versionOf('@nestjs/core')} (platform-express) + http-proxy-middleware ${versionOf('http-proxy-middleware')}`,
        cpuOf: 'proxy',
        url: `${nest.url}/echo`,
        headers,
        pid: nest.proc.pid!,
      },
      ...(nginx
        ? [
            {
              label: `nginx ${nginxVersion(binary!)}, worker_processes 1`,
              cpuOf: 'worker',
              url: `${nginx.url}/echo`,
              headers,
              pid: nginx.workerPid,
            },
          ]
        : []),
    ];
    const logBefore = gateway.logLines();
    const nginxBefore = nginx?.accessLines() ?? 0;
    const measured = await compare(targets);
    return {
      rows: targets.map((t, i) => ({ label: t.label, cpuOf: t.cpuOf, measured: measured[i] })),
      gatewayLogLines: gateway.logLines() - logBefore,
      nginxAccessLines: nginx && nginx.accessLines() - nginxBefore,
      nginxSkipped: nginx ? undefined : NGINX_SKIPPED,
    };
  } finally {
    await nginx?.stop();
    await stopChild(nest.proc);
    await stopChild(fastify.proc);
    await stopChild(bare.proc);
    await gateway.stop();
  }
}

function nginxVersion(binary: string): string {
  // `nginx -v` prints `nginx version: nginx/1.22.1` on stderr.
  const out = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(`${out.stderr}${out.stdout}`)?.[1] ?? '(version unknown)';
}

function renderPeers(p: PeerSection): string[] {
  const [gateway] = p.rows;
  const paired = (x: Measured, of: (g: Run, peer: Run) => number) => median(gateway.measured.rounds.map((run, i) => of(run, x.rounds[i])));
  return [
    `## The gateway next to the proxies a user would pick instead`,
    '',
    `Same upstream emulator, same load (${CONNECTIONS} connections, pipelining ${PIPELINING}, ${DURATION_S} s per run, a ${WARMUP_S} s warm-up each), ` +
      `every proxy in its own process, measured in turns (${RUNS} rounds, every other one in reverse order; medians). ` +
      `Same cached-token situation: each peer adds one fixed \`Authorization\` header (the token the bench fetched once), as a hand-written proxy would; ` +
      `none of them fetches or refreshes tokens, checks API keys, or logs requests (Fastify's and Nest's defaults), except nginx, whose access log ` +
      `(combined format) goes to a named pipe the bench reads${p.nginxAccessLines === undefined ? '' : ` (${int(p.nginxAccessLines)} lines read during the runs)`}. ` +
      `The gateway: \`LOG_LEVEL=info\`, production, its token cached, its log on stdout to a named pipe the bench reads as a container runtime would ` +
      `(${int(p.gatewayLogLines)} lines read during the runs). CPU µs/request: user + system time of the proxy's process (nginx: its one worker) during its runs, per request. ` +
      `Ratios: the median over the rounds of the gateway's figure over the peer's in the same round.`,
    '',
    '| proxy | req/s (median) | req/s range | p50 ms | p99 ms | CPU µs/request | gateway req/s ÷ this | gateway CPU ÷ this | errors | non-2xx |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...p.rows.map(
      ({ label, cpuOf, measured: x }) =>
        `| ${label} | ${int(x.rps)} | ${int(x.minRps)}–${int(x.maxRps)} | ${ms(x.p50)} | ${ms(x.p99)} | ${x.cpuUs.toFixed(0)} (${cpuOf}) | ` +
        `${paired(x, (g, peer) => g.rps / peer.rps).toFixed(2)} | ${paired(x, (g, peer) => g.cpuUs / peer.cpuUs).toFixed(2)} | ${int(x.errors)} | ${int(x.non2xx)} |`,
    ),
    ...(p.nginxSkipped ? ['', p.nginxSkipped] : []),
  ];
}

interface SharedOriginResult {
  idle: LoadResult;
  held: LoadResult;
  /** Uploads still unanswered (so still holding their upstream connections) after the run. */
  stillHeld: number;
}

/**
 * Latency of requests for one provider (`acme`, GET …/echo at a fixed rate) while 128 uploads to
 * another provider on the same API origin (`prio`) trickle and hold their connections, next to the
 * same run with no upload: the uploads must not make the other provider's requests wait.
 */
async function sharedOrigin(upstream: Upstream, headers: Record<string, string>): Promise<SharedOriginResult> {
  const { oauth2 } = upstream;
  const gateway = await startGateway(upstream, {
    logLevel: 'info',
    name: 'gateway-shared-origin',
    env: {
      OAUTH_PROVIDERS: 'acme',
      ACME_TOKEN_URL: oauth2.tokenUrl,
      ACME_API_URL: oauth2.apiUrl,
      ACME_CLIENT_ID: oauth2.clientId,
      ACME_CLIENT_SECRET: oauth2.clientSecret,
    },
  });
  try {
    const url = `${gateway.url}/acme/echo`;
    await expectOk('shared-origin gateway', url, headers);
    const fixed = { connections: 10, overallRate: SHARED_ORIGIN_RATE, duration: DURATION_S };
    await loadOnce(url, headers, { ...fixed, duration: 2 });
    const idle = await loadOnce(url, headers, fixed);
    const uploads = await trickleUploads(`${gateway.url}/prio/upload`, headers, TRICKLING_UPLOADS);
    const held = await loadOnce(url, headers, fixed);
    const stillHeld = uploads.unanswered();
    uploads.stop();
    log(
      `shared origin: idle p50 ${ms(idle.p50)} / p99 ${ms(idle.p99)} ms; with ${stillHeld} uploads held p50 ${ms(held.p50)} / p99 ${ms(held.p99)} ms, errors ${held.errors}, non-2xx ${held.non2xx}`,
    );
    return { idle, held, stillHeld };
  } finally {
    await gateway.stop();
  }
}

interface ProfileRun {
  load: LoadResult;
  summary: ProfileSummary;
  file: string;
}

/** The gateway under `node --cpu-prof`: a warm-up, a measured run, then a clean stop writes the profile. */
async function profile(upstream: Upstream, headers: Record<string, string>): Promise<ProfileRun> {
  const dir = join(tmp, 'profile');
  const gateway = await startGateway(upstream, {
    logLevel: 'info',
    name: 'gateway-profile',
    execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  try {
    await expectOk('profiled gateway', `${gateway.url}/prio/echo`, headers);
    await loadOnce(`${gateway.url}/prio/echo`, headers, { duration: 3 });
    const from = performance.now() - gateway.startedAt;
    const load = await loadOnce(`${gateway.url}/prio/echo`, headers, { duration: PROFILE_S });
    const to = performance.now() - gateway.startedAt;
    await gateway.stop();
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile written in ${dir} (gateway exit code ${gateway.proc.exitCode})`);
    const kept = resolve(repo, 'bench/gateway.cpuprofile');
    copyFileSync(join(dir, file), kept);
    // Only the measured run: start-up and warm-up are left out (times relative to the spawn, a few ms early).
    const summary = summariseProfileFile(kept, 25, { fromMs: from + 100, toMs: to - 100 });
    return { load, summary, file: kept };
  } finally {
    await gateway.stop();
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
// A run that served nothing has no latencies (NaN, null once through JSON): shown as –.
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '–');
const signed = (value: number) => `${value >= 0 ? '+' : ''}${ms(value)}`;
const int = (value: number) => Math.round(value).toLocaleString('en-US');
const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS');

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
  if (ONLY === 'peers') {
    const section = await peers(upstream, authorization, viaGateway);
    await stopChild(upstream.proc);
    process.stdout.write(`\n${renderPeers(section).join('\n')}\n`);
    return;
  }

  // Cold start: a fresh gateway (empty token cache, no warm-up at start-up), 1,000 callers at once.
  const before = await upstream.tokenRequests();
  const cold = await startGateway(upstream, { logLevel: 'info', name: 'gateway-cold', warmOnStart: false });
  const atStart = (await upstream.tokenRequests()) - before;
  const burstSpec: BurstSpec = { mode: 'burst', url: `${cold.url}/prio/echo`, headers: viaGateway, callers: CALLERS };
  const burst = await runJson<BurstResult>(script('load.js'), [JSON.stringify(burstSpec)], 60_000);
  const coldTokenRequests = (await upstream.tokenRequests()) - before;
  log(
    `cold burst: ${burst.ok}/${burst.callers} ok, ${coldTokenRequests} token request(s) (${atStart} at start-up), p50 ${ms(burst.p50)} ms, p99 ${ms(burst.p99)} ms`,
  );
  // The same burst on a gateway left with V8's allocation-site pretenuring on (see below).
  const pretenured = await startGateway(upstream, {
    logLevel: 'info',
    name: 'gateway-cold-pretenured',
    warmOnStart: false,
    execArgv: [PRETENURING],
  });
  await runJson<BurstResult>(script('load.js'), [JSON.stringify({ ...burstSpec, url: `${pretenured.url}/prio/echo` })], 60_000);

  // The measured gateways are started alike (production, warm start), differing only in LOG_LEVEL.
  // The ones that took the burst are measured as well: V8 would pretenure the allocation sites that
  // the 1,000 long-lived requests went through, and from then on allocate short-lived request
  // objects in the old generation (GC costs more per request, in helper threads too), which the
  // gateway prevents by turning pretenuring off (the last target shows it left on).
  const bare = await startBareProxy(upstream, authorization);
  const gateway = await startGateway(upstream, { logLevel: 'info', name: 'gateway-info' });
  const quiet = await startGateway(upstream, { logLevel: 'warn', name: 'gateway-warn' });
  const linesBefore = countLines(gateway.logFile, '"msg":"proxied"');
  const [directResult, bareResult, infoResult, warnResult, burstedResult, pretenuredResult] = await compare([
    { label: 'direct', url: `${upstream.prio.apiUrl}/echo`, headers: direct, pid: upstream.proc.pid! },
    { label: 'bare proxy', url: `${bare.url}/echo`, headers: viaGateway, pid: bare.proc.pid! },
    { label: 'gateway (info)', url: `${gateway.url}/prio/echo`, headers: viaGateway, pid: gateway.proc.pid! },
    { label: 'gateway (warn)', url: `${quiet.url}/prio/echo`, headers: viaGateway, pid: quiet.proc.pid! },
    { label: 'gateway (info, after the burst)', url: `${cold.url}/prio/echo`, headers: viaGateway, pid: cold.proc.pid! },
    {
      label: `gateway (info, after the burst, ${PRETENURING})`,
      url: `${pretenured.url}/prio/echo`,
      headers: viaGateway,
      pid: pretenured.proc.pid!,
    },
  ]);
  const accessLines = countLines(gateway.logFile, '"msg":"proxied"') - linesBefore;
  await quiet.stop();
  await cold.stop();
  await pretenured.stop();
  // Below saturation: the same offered load on both, in alternating rounds, so latency is the proxies' own and not the queue's.
  const fixed = { connections: 10, overallRate: FIXED_RATE, duration: DURATION_S };
  const bareFixed: LoadResult[] = [];
  const gatewayFixed: LoadResult[] = [];
  for (let round = 1; round <= FIXED_ROUNDS; round++) {
    const pair = [
      async () => bareFixed.push(await loadOnce(`${bare.url}/echo`, viaGateway, fixed)),
      async () => gatewayFixed.push(await loadOnce(`${gateway.url}/prio/echo`, viaGateway, fixed)),
    ];
    for (const run of round % 2 ? pair : pair.reverse()) await run();
    log(`at ${FIXED_RATE} req/s, round ${round}: bare p99 ${ms(bareFixed.at(-1)!.p99)} ms, gateway p99 ${ms(gatewayFixed.at(-1)!.p99)} ms`);
  }
  await stopChild(bare.proc);
  await gateway.stop();

  // 200 MiB each way through a fresh gateway whose body limit allows it.
  const streamer = await startGateway(upstream, { logLevel: 'info', name: 'gateway-stream', maxBodyBytes: 1024 * 1024 * 1024 });
  const stream = await streaming(streamer, viaGateway);
  await streamer.stop();

  const keyRows = await keyCounts(upstream, viaGateway);
  const peerRows = await peers(upstream, authorization, viaGateway);
  const shared = await sharedOrigin(upstream, viaGateway);

  log('getToken hot path');
  const hot = await runJson<HotPathResult>(script('token-hot-path.js'), ['--json'], 60_000);

  const profiled = PROFILE ? await profile(upstream, viaGateway) : undefined;
  await stopChild(upstream.proc);

  const report = render({
    directResult,
    bareResult,
    bareFixed,
    infoResult,
    gatewayFixed,
    warnResult,
    burstedResult,
    pretenuredResult,
    accessLines,
    burst,
    coldTokenRequests,
    atStart,
    stream,
    keyRows,
    peerRows,
    shared,
    hot,
    profiled,
  });
  process.stdout.write(`\n${report}\n`);
  const resultsFile = resolve(repo, 'bench/results.md');
  writeFileSync(resultsFile, `${report}\n${keptNotes(resultsFile)}`);
  log(`done; written to bench/results.md${profiled ? `, profile kept in ${profiled.file}` : ''}`);
}

/** The notes written by hand below NOTES_MARKER (history, A/B runs) survive a new report. */
const NOTES_MARKER = '<!-- Notes below this line are kept when npm run bench rewrites the report above. -->';
function keptNotes(file: string): string {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = previous.indexOf(NOTES_MARKER);
  return at >= 0 ? `\n${previous.slice(at)}` : `\n${NOTES_MARKER}\n`;
}

interface Results {
  directResult: Measured;
  bareResult: Measured;
  bareFixed: LoadResult[];
  infoResult: Measured;
  gatewayFixed: LoadResult[];
  warnResult: Measured;
  burstedResult: Measured;
  pretenuredResult: Measured;
  accessLines: number;
  burst: BurstResult;
  coldTokenRequests: number;
  atStart: number;
  stream: StreamResult;
  keyRows: KeyCountRow[];
  peerRows: PeerSection;
  shared: SharedOriginResult;
  hot: HotPathResult;
  profiled?: ProfileRun;
}

function render(r: Results): string {
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

const stopAll = (code: number) => {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
};
process.once('SIGINT', () => stopAll(130));
process.once('SIGTERM', () => stopAll(143));
main().then(
  () => stopAll(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    stopAll(1);
  },
);
