import type { IncomingMessage } from 'node:http';

/** The caller's address for the access line: the peer of the connection (`-` once the socket is gone). */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '-';
}
