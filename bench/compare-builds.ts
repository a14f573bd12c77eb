import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { API_KEY, compareOption, CONNECTIONS, DURATION_S, int, log, median, PIPELINING, repo, tmp, WARMUP_S } from './bench-context.js';
import { killAll, runBench, stopChild } from './children.js';
import { interleaved, together, warmUp, type Measured, type Run, type Target } from './measure.js';
import { spread } from './ratios.js';
import { startGateway, startUpstream, type Gateway } from './targets.js';

/**
 * `npm run bench:compare -- --base <checkout> [--rounds 15] [--duration 3] [--rate 1000] [--together]`: the
 * gateway of this checkout against the gateway of another, built checkout (its dist/), both up at
 * once behind one upstream emulator and started alike (production, LOG_LEVEL=info, token cached,
 * access log to a named pipe), each warmed up, then measured in paired rounds whose order alternates,
 * flat out (50 connections) or, with `--rate`, at that many req/s in all; with `--together`, both
 * gateways are loaded at once in each round.
 * Prints every round, the medians and the median of the rounds' ratios (this ÷ base): the figure a
 * "CPU per request within N % of before" check reads, with its spread.
 */

const BASE_DIR = resolve(String(compareOption('base') ?? ''));
const BASE_MAIN = resolve(BASE_DIR, 'dist/apps/gateway/src/main.js');
const ROUNDS = Number(compareOption('rounds'));
/** A fixed offered load: CPU per request then does not follow how much CPU the machine's other work left the gateways. */
const RATE = compareOption('rate') as number | undefined;
const TOGETHER = compareOption('together') === true;
// Every load run is bounded by its own timeout (duration + 30 s), so this only catches a hung start.
const BUDGET_MS = (2 * (WARMUP_S + 30) + ROUNDS * 2 * (DURATION_S + 30) + 120) * 1000;

const commitOf = (dir: string) => {
  try {
    return execFileSync('git', ['-C', dir, 'describe', '--always', '--dirty', '--abbrev=7'], { encoding: 'utf8' }).trim();
  } catch {
    return 'not a git checkout';
  }
};

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

function render(self: Measured, base: Measured, logLines: { self: number; base: number }, loads: string[]): string {
  const pairs = self.rounds.map((s, i): [Run, Run] => [s, base.rounds[i]]);
  const cpuRatios = pairs.map(([s, b]) => s.cpuUs / b.cpuUs);
  const rpsRatios = pairs.map(([s, b]) => s.rps / b.rps);
  const rows = pairs.map(
    ([s, b], i) =>
      `| ${i + 1} | ${TOGETHER ? 'together' : i % 2 ? 'base, this' : 'this, base'} | ${int(s.rps)} | ${int(b.rps)} | ${s.cpuUs.toFixed(1)} | ${b.cpuUs.toFixed(1)} | ${cpuRatios[i].toFixed(3)} | ${rpsRatios[i].toFixed(3)} |`,
  );
  return [
    `this: ${repo} (${commitOf(repo)}); base: ${BASE_DIR} (${commitOf(BASE_DIR)}); Node ${process.version}`,
    `${CONNECTIONS} connections, pipelining ${PIPELINING}, ${RATE === undefined ? 'flat out' : `${RATE} req/s in all`}, a ${WARMUP_S} s warm-up each, ${ROUNDS} paired rounds of ${DURATION_S} s${TOGETHER ? ', both at once' : ''}; load average ${loads.join(' at the start, ')} at the end`,
    '',
    '| round | order | this req/s | base req/s | this CPU µs/req | base CPU µs/req | CPU this ÷ base | req/s this ÷ base |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    `| median | | ${int(self.rps)} | ${int(base.rps)} | ${self.cpuUs.toFixed(1)} | ${base.cpuUs.toFixed(1)} | ${median(cpuRatios).toFixed(3)} | ${median(rpsRatios).toFixed(3)} |`,
    '',
    spread('CPU per request, this ÷ base', cpuRatios),
    spread('req/s, this ÷ base', rpsRatios),
    `errors ${self.errors} and ${base.errors}, non-2xx ${self.non2xx} and ${base.non2xx}; access-log lines per request served ${logLines.self.toFixed(2)} and ${logLines.base.toFixed(2)} (this and base)`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (compareOption('base') === undefined) {
    process.stderr.write('--base <directory of another built checkout> is required\n');
    process.exit(2);
  }
  if (!existsSync(BASE_MAIN)) throw new Error(`${BASE_MAIN} not found: run npm ci and npm run build in ${BASE_DIR} first`);
  setTimeout(() => {
    log(`still running after ${BUDGET_MS / 1000} s: giving up`);
    killAll();
    process.exit(1);
  }, BUDGET_MS).unref();
  const loads = [load()];
  log(`this checkout against ${BASE_DIR}: ${ROUNDS} paired rounds of ${DURATION_S} s, load average ${loads[0]}`);
  const upstream = await startUpstream();
  const started: Gateway[] = [];
  const gateway = async (name: string, main?: string) => {
    started.push(await startGateway(upstream, { logLevel: 'info', logPipe: true, name, main }));
    return started.at(-1)!;
  };
  const self = await gateway('gateway-this');
  const base = await gateway('gateway-base', BASE_MAIN);
  const headers = { 'x-api-key': API_KEY };
  const targets: [Target, Target] = [
    { label: 'this', url: `${self.url}/prio/echo`, headers, pid: self.proc.pid! },
    { label: 'base', url: `${base.url}/prio/echo`, headers, pid: base.proc.pid! },
  ];
  const warm = await warmUp(targets);
  const extra = RATE === undefined ? {} : { overallRate: RATE };
  const [selfResult, baseResult] = await (TOGETHER ? together(targets, ROUNDS, extra) : interleaved(targets, ROUNDS, extra));
  // Every request answered so far (the check before the warm-up included) against the lines read from each pipe.
  const logLines = {
    self: self.logLines() / (1 + warm[0].requests + selfResult.requests),
    base: base.logLines() / (1 + warm[1].requests + baseResult.requests),
  };
  loads.push(load());
  for (const g of started) await g.stop();
  await stopChild(upstream.proc);
  process.stdout.write(`\n${render(selfResult, baseResult, logLines, loads)}\n`);
}

runBench(main, tmp);
