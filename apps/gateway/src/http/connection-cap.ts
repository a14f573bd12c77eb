import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** From this share of the cap on, idle kept-alive connections give way to new callers. */
const PRESSURE_SHARE = 0.9;
/** How often idle connections are looked for while the server is under pressure. */
const RELIEF_PERIOD_MS = 200;

/**
 * Caps the caller connections of `server` at `max` (0: no cap; Node refuses any beyond it) and,
 * from `PRESSURE_SHARE` of it on, closes idle kept-alive connections, oldest first, so that
 * callers holding idle connections cannot keep a new caller out (as Envoy's overload manager
 * shortens idle timeouts under pressure). Only connections are tracked, never requests, so the
 * proxy's path pays nothing for it.
 */
export function capConnections(server: Server, max: number): void {
  if (max === 0) return;
  server.maxConnections = max;
  const pressure = Math.max(1, Math.floor(max * PRESSURE_SHARE));
  // Insertion order is age order.
  const open = new Set<Socket>();
  let relief: NodeJS.Timeout | undefined;
  const relieve = () => {
    for (const socket of open) {
      if (open.size < pressure) break;
      if (!idle(socket)) continue;
      open.delete(socket);
      socket.destroy();
    }
    if (open.size < pressure && relief !== undefined) {
      clearInterval(relief);
      relief = undefined;
    }
  };
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (open.size < pressure) return;
    relieve();
    // Answers still in progress end later: keep looking while the pressure lasts, as Node refuses callers at the cap.
    relief ??= setInterval(relieve, RELIEF_PERIOD_MS).unref();
  });
  server.once('close', () => clearInterval(relief));
}

/**
 * Answered at least once and answering nothing now: waiting for a next request. Node's own
 * `closeIdleConnections()` reads the same `_httpMessage`, the response a connection is writing.
 */
function idle(socket: Socket): boolean {
  return socket.bytesWritten > 0 && (socket as { _httpMessage?: unknown })._httpMessage == null;
}
