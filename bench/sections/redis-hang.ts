import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEY, DURATION_S, FIXED_ROUNDS, log, median, ms, SHARED_ORIGIN_RATE, signed, tmp, verdict } from '../bench-context.js';
import { freePort, stopChild, track } from '../children.js';
import type { LoadResult } from '../load.js';
import { loadOnce } from '../measure.js';
import { expectOk, startGateway, type Upstream } from '../targets.js';

/** How long the load runs right after SIGSTOP, before the measured run: the requests in flight when Redis hangs pay its timeout once. */
const ONSET_S = 1;

interface HangRound {
  healthy: LoadResult;
  onset: LoadResult;
  hung: LoadResult;
}

export type RedisHangResult = { skipped: string } | { rounds: HangRound[]; rate: number; p99Delta: number };

/**
 * p99 of `GET …/echo` at a fixed rate through a key with a `rateLimit` (so the Redis rate limiter is
 * on the path; tokens are shared through the same Redis), with the gateway's own redis-server
 * healthy, next to the same load while that server is SIGSTOPped (then SIGCONT); rounds interleaved.
 */
export async function redisHang(upstream: Upstream): Promise<RedisHangResult> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    log('redis hang: SKIPPED, no redis-server on PATH');
    return { skipped: 'no redis-server on PATH' };
  }
  const port = await freePort();
  const redis = track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }),
  );
  const keysFile = join(tmp, 'redis-keys.yaml');
  const digest = createHash('sha256').update(API_KEY).digest('hex');
  writeFileSync(keysFile, `keys:\n  - name: bench\n    key: sha256:${digest}\n    providers: "*"\n    rateLimit: 1000000/s\n`);
  const headers = { 'x-api-key': API_KEY };
  try {
    await answersPing(port);
    const gateway = await startGateway(upstream, {
      logLevel: 'warn',
      name: 'gateway-redis',
      keysFile,
      env: { REDIS_URL: `redis://127.0.0.1:${port}`, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex') },
    });
    try {
      const url = `${gateway.url}/prio/echo`;
      await expectOk('redis gateway', url, headers);
      const fixed = { connections: 10, overallRate: SHARED_ORIGIN_RATE, duration: DURATION_S };
      await loadOnce(url, headers, { ...fixed, duration: 2 });
      const rounds: HangRound[] = [];
      for (let i = 0; i < FIXED_ROUNDS; i++) {
        const healthyFirst = i % 2 === 0;
        const healthy = healthyFirst ? await loadOnce(url, headers, fixed) : undefined;
        redis.kill('SIGSTOP');
        const onset = await loadOnce(url, headers, { ...fixed, duration: ONSET_S });
        const hung = await loadOnce(url, headers, fixed);
        redis.kill('SIGCONT');
        // Redis runs what queued meanwhile; the limiter and the store find it again.
        await loadOnce(url, headers, { ...fixed, duration: 1 });
        rounds.push({ healthy: healthy ?? (await loadOnce(url, headers, fixed)), onset, hung });
      }
      const p99Delta = median(rounds.map((r) => r.hung.p99 - r.healthy.p99));
      log(
        `redis hang: p99 healthy ${rounds.map((r) => ms(r.healthy.p99)).join(', ')}; hung ${rounds.map((r) => ms(r.hung.p99)).join(', ')} ms`,
      );
      return { rounds, rate: SHARED_ORIGIN_RATE, p99Delta };
    } finally {
      await gateway.stop();
    }
  } finally {
    redis.kill('SIGCONT');
    await stopChild(redis);
  }
}

/** Resolves once the server on `port` answers PING (within 10 s). */
async function answersPing(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    const pong = await new Promise<boolean>((resolve) => {
      socket.once('data', (data) => resolve(data.toString().startsWith('+PONG')));
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
    });
    socket.destroy();
    if (pong) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s`);
    await sleep(50);
  }
}

/** The check-table row: the median of the paired rounds' p99 difference, against the issue's bound. */
export function renderRedisHang(r: RedisHangResult): string {
  const what = "p99 while the gateway's Redis hangs (SIGSTOP) − p99 with it healthy, GET through a rate-limited key";
  if ('skipped' in r) return `| ${what} | skipped: ${r.skipped} | ≤ +5 ms | – |`;
  const p99s = (of: (round: HangRound) => LoadResult) => r.rounds.map((x) => ms(of(x).p99)).join(', ');
  const failed = r.rounds.reduce((n, x) => n + x.healthy.errors + x.hung.errors + x.healthy.non2xx + x.hung.non2xx, 0);
  return (
    `| ${what} at ${r.rate} req/s, median of ${r.rounds.length} interleaved rounds | ${signed(r.p99Delta)} ms ` +
    `(p99 healthy: ${p99s((x) => x.healthy)}; hung: ${p99s((x) => x.hung)}; in the first ${ONSET_S} s of the hang: ${p99s((x) => x.onset)} ms); ` +
    `${failed} errors or non-2xx | ≤ +5 ms | ${verdict(r.p99Delta <= 5 && failed === 0)} |`
  );
}
