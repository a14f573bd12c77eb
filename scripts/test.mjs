#!/usr/bin/env node
// `npm test`: makes sure a Redis answers for the Redis suites, runs Jest in ESM
// mode (Nest 12 is ESM only), then prints the plain tally line CI reads.
//
// Redis: REDIS_URL if set, else 127.0.0.1:6379; if neither answers, a private
// `redis-server` from PATH on a spare port; if there is none, the Redis suites
// are skipped with one clear line (never under CI=true: there it is an error).
// The Redis Cluster and Sentinel suites build their own servers, so they need redis-server and redis-cli on PATH.
//
// Before Jest: `npm run build`, since some suites run what an operator runs (the npm scripts,
// the token CLI, the pruned production tree) and those use dist/. The Prometheus suites need
// `promtool` on PATH (Debian: apt-get install prometheus); without it they are skipped with one
// line, except under CI=true.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, redisAnswers, redisToolsOnPath } from './redis-server.mjs';

const args = process.argv.slice(2);
const env = { ...process.env };
let privateRedis;

if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0) {
  env.TEST_PROMTOOL = '1';
} else if (env.CI === 'true') {
  console.error('promtool: not on PATH (apt-get install prometheus); CI never skips the Prometheus rules and metrics checks');
  process.exit(1);
} else {
  console.log('promtool: not on PATH: the Prometheus rules and metrics checks are SKIPPED (apt-get install prometheus)');
}

const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (build.status !== 0) {
  process.stdout.write(build.stdout);
  process.stderr.write(build.stderr);
  console.error('build: npm run build failed; the suites that run dist/ cannot run');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const candidate = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
if (await redisAnswers(candidate)) {
  env.TEST_REDIS_URL = candidate;
} else {
  privateRedis = await startRedisServer().catch(() => undefined);
  if (privateRedis) {
    env.TEST_REDIS_URL = privateRedis.url;
    console.log(`redis: ${candidate} did not answer; started a private redis-server at ${privateRedis.url}`);
  } else if (env.CI === 'true') {
    console.error(`redis: ${candidate} did not answer and no redis-server could be started; CI never skips the Redis suites`);
    process.exit(1);
  } else {
    console.log('redis: no Redis answered and no redis-server on PATH: the Redis suites are SKIPPED');
  }
}

if (redisToolsOnPath()) {
  env.TEST_REDIS_CLUSTER = '1';
} else if (env.CI === 'true') {
  console.error('redis: redis-server and redis-cli are needed on PATH for the Redis Cluster and Sentinel suites; CI never skips them');
  process.exit(1);
} else {
  console.log('redis: no redis-server/redis-cli on PATH: the Redis Cluster and Sentinel suites are SKIPPED');
}

const outDir = mkdtempSync(join(tmpdir(), 'jest-json-'));
const outFile = join(outDir, 'results.json');
env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim();
const jest = spawn(process.execPath, ['node_modules/jest/bin/jest.js', '--json', `--outputFile=${outFile}`, ...args], {
  env,
  stdio: 'inherit',
});
const exited = new Promise((resolve) => jest.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
// Jest writes the results file when the run is over; one that then stays up (a handle a failed test left
// open) would hang CI until its time limit, so after a grace period it is stopped and counted as a failure.
const EXIT_GRACE_MS = 30_000;
let hung = false;
const watchdog = setInterval(() => {
  if (!existsSync(outFile)) return;
  clearInterval(watchdog);
  setTimeout(() => {
    hung = true;
    console.error(`jest: still running ${EXIT_GRACE_MS / 1000} s after writing its results (a handle left open); stopped`);
    jest.kill('SIGKILL');
  }, EXIT_GRACE_MS).unref();
}, 1000);
const code = await exited;
clearInterval(watchdog);
await privateRedis?.stop();

let tally = '0 passed, 0 failed';
try {
  const r = JSON.parse(readFileSync(outFile, 'utf8'));
  // Name every skipped test, so that a skip is never silent in CI's log.
  for (const suite of r.testResults ?? [])
    for (const test of suite.assertionResults ?? [])
      if (test.status === 'pending') console.log(`skipped: ${suite.name.replace(process.cwd() + '/', '')} › ${test.fullName}`);
  tally =
    `${r.numPassedTests} passed, ${r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0) + (hung ? 1 : 0)} failed` +
    (r.numPendingTests ? `, ${r.numPendingTests} skipped` : '');
} catch {
  tally = '0 passed, 1 failed';
}
rmSync(outDir, { recursive: true, force: true });
console.log(tally);
process.exit(hung ? 1 : code);
