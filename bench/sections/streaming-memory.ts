import { mib, log, STREAM_BYTES } from '../bench-context.js';
import { RssSampler } from '../children.js';
import { download, upload, type Transfer } from '../streaming.js';
import { expectOk, startGateway, type Gateway, type Upstream } from '../targets.js';

export interface StreamResult {
  download: Transfer & { growth: number; baseline: number };
  upload: Transfer & { growth: number; baseline: number };
}

/** 200 MiB each way through a fresh gateway whose body limit allows it, and how much its RSS grew meanwhile. */
export async function streaming(upstream: Upstream, headers: Record<string, string>): Promise<StreamResult> {
  const gateway = await startGateway(upstream, { logLevel: 'info', name: 'gateway-stream', maxBodyBytes: 1024 * 1024 * 1024 });
  try {
    return await measureTransfers(gateway, headers);
  } finally {
    await gateway.stop();
  }
}

async function measureTransfers(gateway: Gateway, headers: Record<string, string>): Promise<StreamResult> {
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
