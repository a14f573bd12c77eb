/**
 * The repository's generic test helpers, for every suite (apps/, libs/, test/): waiting for a
 * condition and a free loopback port. Processes are in processes.ts, Redis fixtures in the library's
 * test-support.
 */

export { freePort } from '../../scripts/redis-server.mjs';

/** Polls `condition` every 20 ms; fails with `what` once `timeoutMs` has passed. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
