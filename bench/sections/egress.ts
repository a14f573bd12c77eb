import { resolve } from 'node:path';
import { int, log, ms, repo, RUNS } from '../bench-context.js';
import { spawnNode, stopChild } from '../children.js';
import { compare, type Measured } from '../measure.js';
import { startGateway, type Upstream } from '../targets.js';

export interface EgressResult {
  direct: Measured;
  proxied: Measured;
}

const FORWARD_PROXY = resolve(repo, 'libs/oauth-providers/test-support/forward-proxy.main.mjs');

/**
 * The same gateway twice, one calling the upstream directly and one through a local forward proxy
 * (the `proxy` package the egress tests use, `PRIO_PROXY`, absolute form since the upstream is
 * plain HTTP), measured in turns: the cost of the egress path to the gateway itself.
 */
export async function egress(upstream: Upstream, headers: Record<string, string>): Promise<EgressResult> {
  const proxy = spawnNode(FORWARD_PROXY, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolvePort, reject) => {
    proxy.once('exit', (code) => reject(new Error(`the forward proxy exited with ${code}`)));
    // Its per-request lines are drained and dropped: only the port matters here.
    proxy.stdout!.on('data', (chunk: Buffer) => {
      const listening = /^listening (\d+)$/m.exec(chunk.toString());
      if (listening) resolvePort(Number(listening[1]));
    });
  });
  const direct = await startGateway(upstream, { logLevel: 'info', name: 'gateway-egress-direct' });
  const proxied = await startGateway(upstream, {
    logLevel: 'info',
    name: 'gateway-egress-proxied',
    env: { PRIO_PROXY: `http://127.0.0.1:${port}` },
  });
  try {
    const [d, p] = await compare([
      { label: 'gateway, direct', url: `${direct.url}/prio/echo`, headers, pid: direct.proc.pid! },
      { label: 'gateway, through a forward proxy', url: `${proxied.url}/prio/echo`, headers, pid: proxied.proc.pid! },
    ]);
    log(`egress: direct ${int(d.rps)} req/s, ${d.cpuUs.toFixed(0)} µs; proxied ${int(p.rps)} req/s, ${p.cpuUs.toFixed(0)} µs`);
    return { direct: d, proxied: p };
  } finally {
    await Promise.all([direct.stop(), proxied.stop()]);
    await stopChild(proxy);
  }
}

export function renderEgress({ direct, proxied }: EgressResult): string[] {
  const row = (label: string, m: Measured) =>
    `| ${label} | ${int(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${m.cpuUs.toFixed(0)} | ${m.errors + m.non2xx} |`;
  return [
    '## Through a local forward proxy',
    '',
    `Two gateways alike but for \`PRIO_PROXY\` (a local \`proxy\` process, absolute form to the plain-HTTP upstream), ` +
      `measured in turns (${RUNS} rounds, medians); CPU is the gateway's own.`,
    '',
    '| target | req/s | p50 ms | p99 ms | gateway CPU µs/request | errors + non-2xx |',
    '|---|---:|---:|---:|---:|---:|',
    row('gateway, direct', direct),
    row('gateway, through a forward proxy', proxied),
  ];
}
