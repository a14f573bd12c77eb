import { CALLERS, FIXED_RATE, FIXED_ROUNDS, DURATION_S, log, ms, PRETENURING, script } from '../bench-context.js';
import { runJson, stopChild } from '../children.js';
import type { BurstResult, BurstSpec, LoadResult } from '../load.js';
import { compare, loadOnce, type Measured } from '../measure.js';
import { countLines, startBareProxy, startGateway, type Upstream } from '../targets.js';

export interface OverheadResult {
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
}

/**
 * The gateway's cost over direct calls and a bare proxy: a cold start under 1,000 concurrent callers,
 * then gateways at info and warn (and the two that took the burst) measured in turns with the bare
 * proxy, then the bare proxy and the gateway at a fixed rate below saturation.
 */
export async function proxyOverhead(
  upstream: Upstream,
  direct: Record<string, string>,
  authorization: string,
  viaGateway: Record<string, string>,
): Promise<OverheadResult> {
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
  return {
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
  };
}
