import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { readOptions } from './cli-options.js';

/** The bench's options, constants, scratch directory, log and number formats, shared by its sections. */

export const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
export const repo = resolve(here, '../..');
export const GATEWAY_MAIN = resolve(repo, 'dist/apps/gateway/src/main.js');
export const script = (name: string) => join(here, name);

const BENCH_USAGE = `Usage: npm run bench [-- --profile] [--duration 3] [--connections 50] [--runs 9] [--only keys|peers|reload|redis|egress|tracing]`;
const COMPARE_USAGE = `Usage: npm run bench:compare -- --base <another built checkout> [--rounds 15] [--duration 3] [--connections 50] [--rate 1000] [--together]`;
const SHARED = { duration: { type: 'number', default: 3 }, connections: { type: 'number', default: 50 } } as const;

/**
 * The command line of the bench script being run (`run.js` or `compare-builds.js`), read once and
 * strictly: an unknown option or a bad value prints its usage and exits 2 before anything starts.
 */
const options = basename(process.argv[1] ?? '').startsWith('compare-builds')
  ? readOptions(COMPARE_USAGE, {
      ...SHARED,
      base: { type: 'string' },
      rounds: { type: 'number', default: 15 },
      rate: { type: 'number' },
      together: { type: 'boolean' },
    })
  : readOptions(BENCH_USAGE, {
      ...SHARED,
      runs: { type: 'number', default: 9 },
      profile: { type: 'boolean' },
      only: { type: 'string', choices: ['keys', 'peers', 'reload', 'redis', 'egress', 'tracing'] },
    });
/** A value of the compare script's own options (undefined for the bench's). */
export const compareOption = <K extends 'base' | 'rounds' | 'rate' | 'together'>(name: K) =>
  (options as Partial<Record<K, string | number | boolean>>)[name];
export const PROFILE = 'profile' in options && options.profile;
export const ONLY = 'only' in options ? options.only : undefined;
export const KEY_COUNTS = [1, 1000, 100_000];
export const DURATION_S = options.duration;
export const CONNECTIONS = options.connections;
export const RUNS = 'runs' in options ? options.runs : 9;
/** On a 2-core VM, V8 needs this long under load before a process's CPU per request stops falling. */
export const WARMUP_S = 8;
export const PIPELINING = 1;
export const CALLERS = 1000;
export const STREAM_BYTES = 200 * 1024 * 1024;
export const PROFILE_S = 10;
export const FIXED_RATE = 1000;
export const FIXED_ROUNDS = 5;
/** Uploads that trickle to one provider while another provider on the same origin is measured. */
export const TRICKLING_UPLOADS = 128;
export const SHARED_ORIGIN_RATE = 500;
export const API_KEY = 'bench-key';
/** V8's default, which the gateway turns off (apps/gateway/src/v8-flags.ts): given explicitly, it is left on. */
export const PRETENURING = '--allocation-site-pretenuring';
export const TOTAL_BUDGET_MS = 18 * 60_000;

export const tmp = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
export const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
export const t0 = performance.now();

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
// A run that served nothing has no latencies (NaN, null once through JSON): shown as –.
export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '–');
export const signed = (value: number) => `${value >= 0 ? '+' : ''}${ms(value)}`;
export const int = (value: number) => Math.round(value).toLocaleString('en-US');
export const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS');
