import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Answer } from './emulator.types.js';

/** Token requests are small; a larger body is refused before it is buffered. */
const MAX_TOKEN_BODY_BYTES = 64 * 1024;

export function send(res: ServerResponse, answer: Answer): void {
  // No body may follow these statuses (RFC 9110 §6.4.1), whatever a failure mode asked for.
  if (answer.status === 204 || answer.status === 304) {
    res.writeHead(answer.status, answer.headers).end();
    return;
  }
  const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The whole body as UTF-8, or undefined past `MAX_TOKEN_BODY_BYTES`. */
export async function readSmallBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TOKEN_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
