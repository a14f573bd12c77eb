import { copyFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROFILE_S, repo, tmp } from '../bench-context.js';
import type { LoadResult } from '../load.js';
import { loadOnce } from '../measure.js';
import { summariseProfileFile, type ProfileSummary } from '../profile-summary.js';
import { expectOk, startGateway, type Upstream } from '../targets.js';

export interface ProfileRun {
  load: LoadResult;
  summary: ProfileSummary;
  file: string;
}

/** The gateway under `node --cpu-prof`: a warm-up, a measured run, then a clean stop writes the profile. */
export async function profile(upstream: Upstream, headers: Record<string, string>): Promise<ProfileRun> {
  const dir = join(tmp, 'profile');
  const gateway = await startGateway(upstream, {
    logLevel: 'info',
    name: 'gateway-profile',
    execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  try {
    await expectOk('profiled gateway', `${gateway.url}/prio/echo`, headers);
    await loadOnce(`${gateway.url}/prio/echo`, headers, { duration: 3 });
    const from = performance.now() - gateway.startedAt;
    const load = await loadOnce(`${gateway.url}/prio/echo`, headers, { duration: PROFILE_S });
    const to = performance.now() - gateway.startedAt;
    await gateway.stop();
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile written in ${dir} (gateway exit code ${gateway.proc.exitCode})`);
    const kept = resolve(repo, 'bench/gateway.cpuprofile');
    copyFileSync(join(dir, file), kept);
    // Only the measured run: start-up and warm-up are left out (times relative to the spawn, a few ms early).
    const summary = summariseProfileFile(kept, 25, { fromMs: from + 100, toMs: to - 100 });
    return { load, summary, file: kept };
  } finally {
    await gateway.stop();
  }
}
