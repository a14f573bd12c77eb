import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** From this share of the cap on, idle kept-alive connections give way to new callers. */
const PRESSURE_SHARE = 0.9;

/**
 * Caps the caller connections of `server` at `max` (0: no cap; Node refuses any beyond it) and,
 * from `PRESSURE_SHARE` of it on, closes idle kept-alive connections, longest idle first, so that
 * callers holding idle connections cannot keep a new caller out (as Envoy's overload manager
 * shortens idle timeouts under pressure). A connection is idle from the end of an answer to its
 * next request; one that has not sent its first request yet is not, its head timeout bounds it.
 */
export function capConnections(server: Server, max: number): void {
  if (max === 0) return;
  server.maxConnections = max;
  const pressure = Math.max(1, Math.floor(max * PRESSURE_SHARE));
  // Insertion order is idle order: a connection that turns idle again moves to the end.
  const idle = new Set<Socket>();
  // Pipelined requests overlap: a connection is idle once every one of its answers is done.
  const pending = new WeakMap<Socket, number>();
  let open = 0;
  const relieve = () => {
    for (const socket of idle) {
      if (open < pressure) return;
      idle.delete(socket);
      socket.destroy();
    }
  };
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => {
      open--;
      idle.delete(socket);
    });
    relieve();
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    idle.delete(socket);
    pending.set(socket, (pending.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const left = pending.get(socket)! - 1;
      pending.set(socket, left);
      if (left > 0 || socket.destroyed) return;
      idle.add(socket);
      relieve();
    });
  });
}
