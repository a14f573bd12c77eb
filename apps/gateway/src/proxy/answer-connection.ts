import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/**
 * Which upstream connection carries the answer whose head undici is handing over right now. undici's
 * handler API does not say, its diagnostics channels do (https://undici.nodejs.org/#/docs/api/DiagnosticsChannel):
 * it publishes a request with its socket when it writes it, and again just before it calls the
 * handler with the answer's head.
 */
const socketOf = new WeakMap<object, Socket>();
let answering: Socket | undefined;

subscribe('undici:client:sendHeaders', (message) => {
  const { request, socket } = message as { request: object; socket: Socket };
  socketOf.set(request, socket);
});
subscribe('undici:request:headers', (message) => {
  answering = socketOf.get((message as { request: object }).request);
});

/** The connection of the answer head being handed to a dispatch handler (valid only inside `onResponseStart`). */
export function answerConnection(): Socket | undefined {
  const socket = answering;
  answering = undefined;
  return socket;
}

/**
 * True when undici dropped `connection` because of bytes it could not take as an answer (a parser
 * error, or an answer nobody asked for), rather than closing it as planned (`UND_ERR_INFO`).
 */
export function refusedBytes(connection: Socket): boolean {
  const code = (connection.errored as { code?: unknown } | null)?.code;
  return connection.destroyed && typeof code === 'string' && code !== 'UND_ERR_INFO';
}
