import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONNECTIONS, DURATION_S, int, log, median, ms, PIPELINING, repo, RUNS, tmp, WARMUP_S } from '../bench-context.js';
import { stopChild } from '../children.js';
import { compare, type Measured, type Run } from '../measure.js';
import { findNginx, NGINX_SKIPPED, startNginx, type Nginx } from '../peers/nginx.js';
import { startBareProxy, startGateway, startPeer, type Upstream } from '../targets.js';

export interface PeerSection {
  rows: Array<{ label: string; cpuOf: string; measured: Measured }>;
  /** Log lines the gateway wrote to its pipe, and access lines nginx wrote to its, during the runs. */
  gatewayLogLines: number;
  nginxAccessLines?: number;
  nginxSkipped?: string;
}

/** A dependency's version as installed, for the row labels. */
export function versionOf(name: string): string {
  return (JSON.parse(readFileSync(resolve(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The gateway next to the proxies a user would pick instead, each in its own process, measured in
 * turns as the rows above are: the bare node:http proxy, Fastify with @fastify/http-proxy, Nest with
 * http-proxy-middleware, and nginx with one worker when it is on PATH. The peers add the token the
 * bench fetched once as a fixed header; the gateway serves it from its cache.
 */
export async function peers(upstream: Upstream, authorization: string, headers: Record<string, string>): Promise<PeerSection> {
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

export function nginxVersion(binary: string): string {
  // `nginx -v` prints `nginx version: nginx/1.22.1` on stderr.
  const out = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(`${out.stderr}${out.stdout}`)?.[1] ?? '(version unknown)';
}

export function renderPeers(p: PeerSection): string[] {
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
