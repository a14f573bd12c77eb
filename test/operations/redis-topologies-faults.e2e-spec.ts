import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from '@jest/globals';
import { GATEWAY_PROVIDERS, startProviderEmulators, type ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { newApiKey } from '../../apps/gateway/src/cli/keys-cli.js';
import { keyDigest } from '../../apps/gateway/src/config/api-keys.config.js';
import { waitUntil } from '../support/helpers.js';
import { startRedisCluster, startRedisSentinel, startRedisServer } from '../../scripts/redis-server.mjs';
import { emulatorEnv } from '../support/gateway-harness.js';
import { GatewayProcess, metric } from '../support/gateway-process.js';

// Builds its own servers (a Sentinel set and a Cluster with replicas); `npm test` says when it skips.
const describeTopologies = process.env.TEST_REDIS_CLUSTER ? describe : describe.skip;

const LIMITED = newApiKey();
const ALL = newApiKey();
const PROVIDERS = GATEWAY_PROVIDERS.map(([provider]) => provider);
/** Traffic before the fault, and after Redis answers again. */
const BEFORE_MS = 2000;
const AFTER_MS = 3000;

/** A Redis set-up, and the fault done to it: resolves once Redis answers the token key again. */
interface Rig {
  env: Record<string, string>;
  fault(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `redis-cli` without blocking: the callers, the watchers and the emulators run in this process, and
 * a synchronous spawn polled during a failover would stall them all and be counted as the fault's latency.
 */
const cli = async (port: number, ...args: string[]) =>
  (await promisify(execFile)('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' })).stdout.trim();

/** What the callers and the operators of two gateways saw while `rig`'s fault happened under steady traffic. */
async function underTraffic(rig: Rig) {
  const emulators: ProviderEmulators = await startProviderEmulators();
  const dir = mkdtempSync(join(tmpdir(), 'redis-faults-'));
  const gateways: GatewayProcess[] = [];
  let faultAt = Infinity;
  // The callers' and watchers' loops run until this is false, which `finally` makes sure of when a step throws.
  let running = false;
  const loops: Array<Promise<unknown>> = [];
  try {
    for (const [, endpoint] of GATEWAY_PROVIDERS) emulators.setTokenLifetime(endpoint, 10);
    const keys = join(dir, 'keys.yaml');
    writeFileSync(
      keys,
      `keys:\n  - { name: limited, key: "sha256:${keyDigest(LIMITED)}", providers: "*", rateLimit: 5/s }\n` +
        `  - { name: all, key: "sha256:${keyDigest(ALL)}", providers: "*" }\n`,
    );
    const { GATEWAY_API_KEYS: _, ...env } = emulatorEnv(emulators);
    const shared = {
      ...env,
      ...rig.env,
      GATEWAY_API_KEYS_FILE: keys,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      TOKEN_WARM_ON_START: 'true',
      LOG_LEVEL: 'info',
    };
    gateways.push(...(await Promise.all([GatewayProcess.start(shared), GatewayProcess.start(shared)])));
    const notReady: string[] = [];
    const ready = async (g: GatewayProcess) => {
      // A gateway that does not answer at all is not ready either: said in `notReady`, not thrown out of a watcher.
      const a = await fetch(`${g.url}/health/ready`).catch((error: Error) => ({
        status: 0,
        text: async () => (error.cause instanceof Error ? error.cause : error).message,
      }));
      if (a.status !== 200 && running) notReady.push(`${Date.now() - faultAt}: ${await a.text()}`);
      return a.status;
    };
    await waitUntil(async () => (await Promise.all(gateways.map(ready))).every((s) => s === 200), 'both gateways ready', 30_000);

    running = true;
    // How long this process (the callers' side) could not run: a busy machine's share of the latencies.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const answers: Array<{ status: number; ms: number; at: number; what: string; id: string }> = [];
    const readiness: number[] = [];
    const gauges = gateways.map(() => ({ store: 0, limits: 0 }));
    // Six callers, one request each 50 ms: two on the rate-limited key, every provider through both gateways.
    const callers = Array.from({ length: 6 }, async (_, i) => {
      for (let n = 0; running; n++) {
        const gateway = gateways[(i + n) % 2];
        const started = performance.now();
        const status = await fetch(`${gateway.url}/${PROVIDERS[(i + n) % PROVIDERS.length]}/echo`, {
          headers: { 'x-api-key': i < 2 ? LIMITED : ALL, 'x-request-id': `tf-${i}-${n}` },
          signal: AbortSignal.timeout(10_000),
        }).then(
          (a) => a.status,
          () => 0,
        );
        const what = `gateway ${(i + n) % 2} ${PROVIDERS[(i + n) % PROVIDERS.length]}${i < 2 ? ' limited' : ''}`;
        answers.push({ status, ms: performance.now() - started, at: Date.now() - faultAt, what, id: `tf-${i}-${n}` });
        await sleep(50);
      }
    });
    const watchers = gateways.map(async (g, i) => {
      while (running) {
        readiness.push(await ready(g));
        gauges[i].store = Math.max(
          gauges[i].store,
          (await metric(g.url, 'gateway_token_store_degraded{shared="true"}').catch(() => undefined)) ?? 0,
        );
        gauges[i].limits = Math.max(gauges[i].limits, (await metric(g.url, 'gateway_rate_limit_degraded').catch(() => undefined)) ?? 0);
        await sleep(100);
      }
    });
    loops.push(...callers, ...watchers);

    await sleep(BEFORE_MS);
    faultAt = Date.now();
    await rig.fault();
    const answered = Date.now();
    const valid = async (g: GatewayProcess) => {
      const body = (await (await fetch(`${g.url}/tokens`, { headers: { 'x-api-key': ALL } })).json()) as {
        providers: Array<{ state: string }>;
      };
      return body.providers.every((p) => p.state === 'valid');
    };
    await waitUntil(async () => (await Promise.all(gateways.map(valid))).every(Boolean), 'every token valid on both', 10_000);
    const validAfterMs = Date.now() - answered;
    await sleep(AFTER_MS);
    running = false;
    await Promise.all([...callers, ...watchers]);
    lag.disable();
    await waitUntil(
      async () =>
        (await Promise.all(gateways.map((g) => metric(g.url, 'gateway_token_store_degraded{shared="true"}')))).every((v) => v === 0),
      'the gauges back to 0',
    );

    const lines = gateways.map((g) => g.logs());
    const timeouts = await Promise.all(
      gateways.map(async (g) =>
        Promise.all(['token_store', 'rate_limit'].map((use) => metric(g.url, `gateway_redis_command_timeouts_total{use="${use}"}`))),
      ),
    );
    return {
      timeouts,
      answers,
      failed: answers.filter((a) => a.status !== 200 && a.status !== 429),
      maxMs: Math.max(...answers.filter((a) => a.at >= 0).map((a) => a.ms)),
      slowest: answers
        .filter((a) => a.at >= 0)
        .sort((x, y) => y.ms - x.ms)
        .slice(0, 3)
        .map((a) => {
          // The gateway's own view of it: the time it held the request, and the part spent upstream.
          const line = lines.flat().find((l) => l.reqId === a.id);
          return `${Math.round(a.ms)} ms ending ${a.at} ms after the fault (${a.what}; gateway ${String(line?.ms)} ms, upstream ${String(line?.upstreamMs)} ms)`;
        }),
      beforeMs: Math.max(...answers.filter((a) => a.at < 0).map((a) => a.ms)),
      p99: [answers.filter((a) => a.at < 0), answers.filter((a) => a.at >= 0 && a.at <= answered - faultAt)].map(p99),
      readiness,
      notReady,
      validAfterMs,
      loopLagMaxMs: Math.round(lag.max / 1e6),
      gauges,
      warned: lines.map(
        (l) => l.filter((line) => line.level === 40 && /^Redis (commands failing|client error)$/.test(String(line.msg))).length,
      ),
      // A caller waits on a renewal only once its token is past its usable life: the slowest renewals tell whether that happened.
      renewals: lines.map((l) => {
        const renewed = l.filter((line) => line.msg === 'token renewed');
        return {
          longestMs: Math.max(0, ...renewed.map((line) => Number(line.ms))),
          byCallers: renewed.filter((line) => line.trigger === 'request').length,
        };
      }),
      recovered: lines.map((l) => l.filter((line) => line.msg === 'Redis answering again').map((line) => line.outageMs as number)),
    };
  } finally {
    running = false;
    // A watcher whose gateway went away mid-step rejects; the step's own error is the one reported.
    await Promise.allSettled(loops);
    await Promise.all(gateways.map((g) => g.stop()));
    await emulators.close();
    rmSync(dir, { recursive: true, force: true });
    await rig.stop();
  }
}

function p99(answers: Array<{ ms: number }>): number {
  const sorted = answers.map((a) => a.ms).sort((x, y) => x - y);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0);
}

/** The bar of the issue: nothing failed, nothing slow, ready throughout, tokens valid soon after, the fault seen. */
function expectCostsCallersNothing(seen: Awaited<ReturnType<typeof underTraffic>>) {
  expect(seen.answers.length).toBeGreaterThan(100);
  expect(seen.failed).toEqual([]);
  // The fault's own share: on a machine busy with other suites, requests before it are slow too.
  expect(seen.maxMs).toBeLessThanOrEqual(1000 + Math.max(0, seen.beforeMs - 100));
  expect(seen.readiness.length).toBeGreaterThan(20);
  expect(seen.notReady).toEqual([]); // each with when (ms after the fault) and the body
  expect(seen.validAfterMs).toBeLessThanOrEqual(3000);
  for (const g of seen.gauges) expect(g.store).toBe(1);
  for (const count of seen.warned) expect(count).toBeGreaterThan(0);
  for (const outages of seen.recovered) expect(outages.length).toBeGreaterThan(0);
}

describeTopologies('Redis faults under traffic: two gateway processes, 10-second tokens, a rate-limited key', () => {
  const reports: string[] = [];
  afterAll(() => console.log(reports.join('\n')));
  const report = (fault: string, seen: Awaited<ReturnType<typeof underTraffic>>) =>
    reports.push(
      `${fault}: ${seen.answers.length} requests, ${seen.answers.filter((a) => a.status === 429).length} 429, ${seen.failed.length} failed, ` +
        `max ${Math.round(seen.maxMs)} ms (before the fault ${Math.round(seen.beforeMs)} ms), p99 before/during ${seen.p99.join('/')} ms, tokens valid ${seen.validAfterMs} ms after Redis answered, callers' loop lag max ${seen.loopLagMaxMs} ms, slowest ${seen.slowest.join('; ')}, ` +
        `renewals ${JSON.stringify(seen.renewals)}, gauges ${JSON.stringify(seen.gauges)}, outages ${JSON.stringify(seen.recovered)} ms`,
    );

  it('SIGSTOP of a single server for 6 s, then SIGCONT', async () => {
    const server = await startRedisServer();
    const seen = await underTraffic({
      env: { REDIS_URL: server.url },
      fault: async () => {
        server.child.kill('SIGSTOP');
        await sleep(6000);
        server.child.kill('SIGCONT');
      },
      stop: () => server.stop(),
    });
    report('SIGSTOP 6 s', seen);
    expectCostsCallersNothing(seen);
    // A hung server answers nothing: each gateway's commands of both uses timed out.
    for (const [store, limits] of seen.timeouts) expect([store! > 0, limits! > 0]).toEqual([true, true]);
  }, 120_000);

  it('kill -9 of the Sentinel master', async () => {
    const set = await startRedisSentinel('tokens', { replicas: 1, downAfterMs: 1000 });
    const sentinelPort = Number(set.sentinels[0].split(':')[1]);
    const seen = await underTraffic({
      env: { REDIS_SENTINELS: set.sentinels.join(','), REDIS_SENTINEL_NAME: set.name },
      fault: async () => {
        await set.master.stop();
        const promoted = String(set.replicas[0].port);
        await waitUntil(
          async () => (await cli(sentinelPort, 'sentinel', 'get-master-addr-by-name', set.name)).endsWith(promoted),
          'the failover',
          30_000,
        );
        await waitUntil(async () => (await cli(set.replicas[0].port, 'role')).startsWith('master'), 'the replica to be master', 30_000);
      },
      stop: () => set.stop(),
    });
    report('Sentinel master killed', seen);
    expectCostsCallersNothing(seen);
  }, 120_000);

  it("kill -9 of the Cluster master holding the token key's slot", async () => {
    const cluster = await startRedisCluster(3, { replicas: 1, nodeTimeoutMs: 3000 });
    const slot = Number(await cli(cluster.servers[0].port, 'cluster', 'keyslot', 'prio'));
    /** The port of the master serving `slot`, as `port` sees it. */
    const ownerOf = async (port: number) => {
      for (const line of (await cli(port, 'cluster', 'nodes')).split('\n')) {
        const [, address, flags, , , , , state, ...ranges] = line.split(' ');
        if (!flags?.includes('master') || flags.includes('fail') || state !== 'connected') continue;
        const serves = ranges.some((r) => {
          const [from, to = from] = r.split('-').map(Number);
          return slot >= from && slot <= to;
        });
        if (serves) return Number(address.split('@')[0].split(':')[1]);
      }
      return undefined;
    };
    const seen = await underTraffic({
      env: { REDIS_CLUSTER_NODES: cluster.nodes.join(',') },
      fault: async () => {
        const owner = (await ownerOf(cluster.servers[0].port))!;
        const victim = cluster.servers.find((s) => s.port === owner)!;
        const witness = cluster.servers.find((s) => s !== victim)!;
        await victim.stop();
        await waitUntil(async () => ![undefined, owner].includes(await ownerOf(witness.port)), 'a replica to take the slot over', 30_000);
        await waitUntil(async () => (await cli((await ownerOf(witness.port))!, 'ping')) === 'PONG', 'the new master to answer', 30_000);
      },
      stop: () => cluster.stop(),
    });
    report('Cluster master of the token slot killed', seen);
    expectCostsCallersNothing(seen);
  }, 120_000);
});
