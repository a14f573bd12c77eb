/**
 * The repository's generic test helpers, for every suite (apps/, libs/, test/): waiting for a
 * condition, a free loopback port and a held one. Processes are in processes.ts, Redis fixtures in the library's
 * test-support.
 */
import { createServer, type AddressInfo } from 'node:net';

export { freePort } from '../../scripts/redis-server.mjs';

/** Polls `condition` every 20 ms; fails with `what` once `timeoutMs` has passed. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A loopback port some other server holds, for the "port already in use" cases. */
export interface HeldPort {
  port: number;
  close(): Promise<void>;
}

export async function holdPort(): Promise<HeldPort> {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  return {
    port: (blocker.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => blocker.close(() => resolve())),
  };
}
