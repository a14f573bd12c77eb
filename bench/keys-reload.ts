import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killAll, nextMessage, runJson, spawnNode, stopChild, waitForHttp } from './children.js';
import { writeKeysFile } from './keys-file.js';
import type { LoadResult, LoadSpec } from './load.js';

/**
 * `node dist/bench/keys-reload.js [keys]`: does reloading a large GATEWAY_API_KEYS_FILE hold
 * requests up? A production gateway with `keys` callers (100,000 by default) serves a fixed rate
 * of requests; in turns, windows without a reload and windows during which it reloads the file
 * back to back (SIGHUP, again as soon as each reload is logged). Prints the row: the p99 of each
 * (medians over the rounds), their difference against the +5 ms target, and the reload time.
 */
const KEYS = Number(process.argv[2] ?? 100_000);
const ROUNDS = 3;
const WINDOW_S = 20;
const RATE = 500;
const CONNECTIONS = 10;
const TARGET_MS = 5;
const API_KEY = 'bench-key';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'keys-reload-'));
const log = (line: string) => process.stderr.write(`[keys-reload] ${line}\n`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const upstreamProc = spawnNode(join(here, 'upstream.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { prio } = await nextMessage<{ ready: true; prio: { tokenUrl: string; apiUrl: string; clientId: string; clientSecret: string } }>(
    upstreamProc,
    (m) => m.ready,
    15_000,
    'upstream emulator',
  );
  const file = join(tmp, 'keys.yaml');
  writeKeysFile(file, KEYS, API_KEY);
  const port = await freePort();
  const logFile = join(tmp, 'gateway.log');
  const logFd = openSync(logFile, 'w');
  let stderr = '';
  const gateway = spawnNode(resolve(here, '../apps/gateway/src/main.js'), [], {
    cwd: tmp,
    stdio: ['ignore', logFd, 'pipe'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(port),
      GATEWAY_API_KEYS_FILE: file,
      PRIO_TOKEN_URL: prio.tokenUrl,
      PRIO_API_URL: prio.apiUrl,
      PRIO_CLIENT_ID: prio.clientId,
      PRIO_CLIENT_SECRET: prio.clientSecret,
    },
  });
  closeSync(logFd);
  gateway.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  await waitForHttp(`${url}/health`, gateway, 600_000, () => stderr);
  log(`${KEYS} keys: serving ${((performance.now() - started) / 1000).toFixed(1)} s after spawn`);

  const reloads = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"trigger":"SIGHUP"') && line.includes('API keys'))
      .map((line) => JSON.parse(line) as { msg: string; ms?: number; keys?: number });
  const spec: LoadSpec = {
    mode: 'load',
    url: `${url}/prio/echo`,
    headers: { 'x-api-key': API_KEY },
    connections: CONNECTIONS,
    pipelining: 1,
    duration: WINDOW_S,
    overallRate: RATE,
  };
  const load = () => runJson<LoadResult>(join(here, 'load.js'), [JSON.stringify(spec)], (WINDOW_S + 30) * 1000);
  await runJson<LoadResult>(join(here, 'load.js'), [JSON.stringify({ ...spec, duration: 5 })], 60_000);

  const quiet: number[] = [];
  const reloading: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    quiet.push((await load()).p99);
    let done = reloads().length;
    let asked = done + 1;
    gateway.kill('SIGHUP');
    const measuring = load();
    let measured: LoadResult | undefined;
    void measuring.then((r) => (measured = r));
    while (measured === undefined) {
      await new Promise((r) => setTimeout(r, 100));
      done = reloads().length;
      if (done >= asked && measured === undefined) {
        asked = done + 1;
        gateway.kill('SIGHUP');
      }
    }
    reloading.push(measured.p99);
    while (reloads().length < asked) await new Promise((r) => setTimeout(r, 100));
    log(`round ${round}: p99 ${quiet[round - 1].toFixed(2)} ms without a reload, ${measured.p99.toFixed(2)} ms during reloads`);
  }
  const lines = reloads();
  const failed = lines.filter((l) => l.msg !== 'API keys loaded');
  if (failed.length > 0 || lines.some((l) => l.keys !== KEYS))
    throw new Error(`reloads that did not load ${KEYS} keys: ${JSON.stringify(failed[0])}`);
  const reloadMs = median(lines.map((l) => l.ms!));
  const diff = median(reloading) - median(quiet);
  console.log('| keys | reloads | reload (median) | p99 without reload | p99 during reloads | difference | target | |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---|');
  console.log(
    `| ${KEYS.toLocaleString('en')} | ${lines.length} | ${(reloadMs / 1000).toFixed(1)} s | ${median(quiet).toFixed(2)} ms | ` +
      `${median(reloading).toFixed(2)} ms | ${diff >= 0 ? '+' : ''}${diff.toFixed(2)} ms | ≤ +${TARGET_MS} ms | ${diff <= TARGET_MS ? 'met' : 'NOT MET'} |`,
  );
  await stopChild(gateway, 10_000);
  await stopChild(upstreamProc, 10_000);
}

try {
  await main();
} finally {
  killAll();
  rmSync(tmp, { recursive: true, force: true });
}
