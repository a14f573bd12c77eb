import type { Server } from 'node:http';

/** How often idle kept-alive connections are closed while a server drains. */
const IDLE_SWEEP_MS = 20;

/**
 * Stops listening (new connections are refused), closes idle kept-alive connections as soon as
 * their request is done (Node only closes those idle at the moment `close()` is called), and
 * after `boundMs` cuts whatever is left; true when it had to.
 */
export function drain(server: Server, boundMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let forced = false;
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const bound = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, boundMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(bound);
      resolve(forced);
    });
  });
}
