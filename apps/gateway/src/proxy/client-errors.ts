import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { requestIdFor } from '../http/request-id.js';
import { ProblemError, renderProblem, type ProblemCode } from '../problem/problem.js';

/** Node's parser errors and what the caller is told for each; anything else is a 400. */
const CODES: Record<string, ProblemCode> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'payload_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  HPE_INVALID_URL: 'invalid_path',
  // A transfer coding Node cannot frame (`gzip` alone, `chunked, gzip`): one we do not implement.
  HPE_INVALID_TRANSFER_ENCODING: 'not_implemented',
};

/** How long a refused `CONNECT`'s connection may take to close once answered. */
const CONNECT_CLOSE_MS = 5_000;

/** What was answered to a request the parser refused, for its access line. */
export interface ParserAnswer {
  requestId: string;
  status: number;
  /** The method, when the packet Node failed on starts with the request line; else `-`. */
  method: string;
  bytesOut: number;
}

/**
 * Requests Node's HTTP parser refuses before any route (a NUL in the target, broken headers, a
 * head not complete within `CLIENT_TIMEOUT_MS`...): the same problem+json, written on the socket
 * since there is no request object, and the socket destroyed at once, as Node's default handler
 * does: a caller that neither reads nor closes must not keep a descriptor. Returns what was
 * answered, or undefined when nothing was (the caller was gone, or already answered).
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): ParserAnswer | undefined {
  let answer: ParserAnswer | undefined;
  // Node's own test (its default handler): a response of ours is already on this connection.
  const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight?.headersSent) {
    // Already answered in this tick (e.g. the 501 to a transfer coding whose body Node then fails to
    // parse): Node corks a response's first write until the next tick, so flush it before destroying.
    while (socket.writableCorked > 0) socket.uncork();
  } else if (error.code !== 'ECONNRESET' && socket.writable) {
    const requestId = randomUUID();
    // The packet Node failed on tells the method, when it holds the request line.
    const method = /^([A-Z]{1,20}) /.exec((error as { rawPacket?: Buffer }).rawPacket?.toString('latin1', 0, 21) ?? '')?.[1] ?? '-';
    answer = writeProblem(socket, new ProblemError(CODES[error.code ?? ''] ?? 'bad_request'), requestId, method);
  }
  socket.destroy();
  return answer;
}

/**
 * A `CONNECT` request (the gateway is no tunnel): 405 with `Allow`, written on the socket Node
 * hands over for it, then the connection ends. Returns what was answered, as for a parser refusal.
 */
export function answerConnect(req: IncomingMessage, socket: Duplex, allow: string): ParserAnswer | undefined {
  socket.on('error', () => undefined);
  if (!socket.writable) return void socket.destroy();
  const requestId = requestIdFor(req.headers['x-request-id']);
  const answer = writeProblem(socket, new ProblemError('method_not_allowed', { headers: { allow } }), requestId, 'CONNECT');
  socket.end();
  // A caller that never reads its answer must not keep the descriptor.
  (socket as Socket).setTimeout(CONNECT_CLOSE_MS, () => socket.destroy());
  return answer;
}

function writeProblem(socket: Duplex, problem: ProblemError, requestId: string, method: string): ParserAnswer {
  const { status, headers, body } = renderProblem(problem, requestId);
  const head = Object.entries({ ...headers, connection: 'close' }).map(([name, value]) => `${name}: ${value}\r\n`);
  // No content in an answer to HEAD (RFC 9110 §9.3.2).
  const text = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head.join('')}\r\n${method === 'HEAD' ? '' : body}`;
  socket.write(text);
  return { requestId, status, method, bytesOut: Buffer.byteLength(text) };
}
