import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/**
 * The upstream connections open now, by origin, learned from undici's diagnostics channel when each
 * connects (https://undici.nodejs.org/#/docs/api/DiagnosticsChannel): one message per connection,
 * never one per request, so the proxy path pays nothing for it.
 */
const openByOrigin = new Map<string, Set<Socket>>();

subscribe('undici:client:connected', (message) => {
  const { connectParams, socket } = message as { connectParams: { protocol: string; host: string }; socket: Socket };
  const origin = `${connectParams.protocol}//${connectParams.host}`;
  let open = openByOrigin.get(origin);
  if (open === undefined) openByOrigin.set(origin, (open = new Set()));
  const connections = open;
  connections.add(socket);
  socket.once('close', () => {
    connections.delete(socket);
    if (connections.size === 0 && openByOrigin.get(origin) === connections) openByOrigin.delete(origin);
  });
});

/** The connections to `origin` that are up now (a `204`/`304` head came on one of them). */
export function liveConnections(origin: string): Socket[] {
  return [...(openByOrigin.get(origin) ?? [])].filter((socket) => !socket.destroyed);
}

/**
 * True when undici dropped one of `connections` because of bytes it could not take as an answer (a
 * parser error, or an answer nobody asked for), rather than closing it as planned (`UND_ERR_INFO`).
 */
export function refusedBytes(connections: readonly Socket[]): boolean {
  return connections.some((connection) => {
    const code = (connection.errored as { code?: unknown } | null)?.code;
    return connection.destroyed && typeof code === 'string' && code !== 'UND_ERR_INFO';
  });
}
