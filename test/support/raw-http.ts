import { connect, type Socket } from 'node:net';
import { until } from './gateway-harness.js';

/** One HTTP/1.1 answer read off the wire. */
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body is whole by its framing (content-length, chunked) or, without framing, the connection closed. */
  complete: boolean;
}

export interface ParsedWire {
  answers: WireAnswer[];
  /** Bytes that do not parse as an answer (a broken status line, header or chunk), if any. */
  malformed?: string;
}

const STATUS_LINE = /^HTTP\/1\.1 (\d{3}) [^\r\n]*$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/**
 * The answers in `bytes`, in order, each checked for a well-formed status line, headers and
 * framing (RFC 9112 §4-§7). `closed`: the connection ended after these bytes. `headRequest`: the
 * answers carry no body whatever their headers say.
 */
export function parseAnswers(bytes: Buffer, closed: boolean, headRequest = false): ParsedWire {
  const answers: WireAnswer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd === -1) return closed ? { answers, malformed: 'head cut short' } : { answers };
    const [statusLine, ...headerLines] = bytes.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = STATUS_LINE.exec(statusLine);
    if (!status) return { answers, malformed: `status line ${JSON.stringify(statusLine.slice(0, 80))}` };
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const header = HEADER_LINE.exec(line);
      if (!header) return { answers, malformed: `header line ${JSON.stringify(line.slice(0, 80))}` };
      const name = header[1].toLowerCase();
      headers[name] = name in headers ? `${headers[name]}, ${header[2]}` : header[2];
    }
    at = headEnd + 4;
    const code = Number(status[1]);
    const answer: WireAnswer = { status: code, headers, body: Buffer.alloc(0), complete: true };
    answers.push(answer);
    if (code < 200 || code === 204 || code === 304 || (headRequest && code >= 200)) continue;
    if (headers['transfer-encoding'] !== undefined) {
      if (headers['transfer-encoding'].toLowerCase() !== 'chunked') return { answers, malformed: 'transfer-encoding other than chunked' };
      const chunks: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', at, 'latin1');
        if (lineEnd === -1) return unfinished(answers, chunks);
        const size = /^([0-9a-fA-F]+)(;.*)?$/.exec(bytes.subarray(at, lineEnd).toString('latin1'));
        if (!size) return { answers, malformed: 'chunk size line' };
        const n = parseInt(size[1], 16);
        if (n === 0) {
          // The last chunk, optional trailer lines, then an empty line.
          const trailerEnd = bytes.indexOf('\r\n\r\n', lineEnd, 'latin1');
          if (trailerEnd === -1) return unfinished(answers, chunks);
          at = trailerEnd + 4;
          answer.body = Buffer.concat(chunks);
          break;
        }
        if (lineEnd + 2 + n + 2 > bytes.length) return unfinished(answers, [...chunks, bytes.subarray(lineEnd + 2)]);
        chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + n));
        if (bytes.toString('latin1', lineEnd + 2 + n, lineEnd + 4 + n) !== '\r\n')
          return { answers, malformed: 'chunk not followed by CRLF' };
        at = lineEnd + 4 + n;
      }
    } else if (headers['content-length'] !== undefined) {
      if (!/^\d+$/.test(headers['content-length'])) return { answers, malformed: 'content-length' };
      const n = Number(headers['content-length']);
      answer.body = bytes.subarray(at, at + n);
      answer.complete = answer.body.length === n;
      at += answer.body.length;
      if (!answer.complete) return { answers };
    } else {
      // Delimited by the end of the connection (RFC 9112 §6.3, rule 8).
      answer.body = bytes.subarray(at);
      answer.complete = closed;
      return { answers };
    }
  }
  return { answers };
}

/** The last answer's chunked body is not whole yet. */
function unfinished(answers: WireAnswer[], chunks: Buffer[]): ParsedWire {
  const last = answers[answers.length - 1];
  last.body = Buffer.concat(chunks);
  last.complete = false;
  return { answers };
}

/**
 * A client on a raw socket: writes exactly the bytes it is given, when it is told to, and keeps
 * every byte of the answer; it can stop reading (a stalled caller) or go away at any point.
 */
export class RawCaller {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  closed = false;
  error: string | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.received += chunk.length;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (this.error = error.code ?? error.message));
    socket.on('close', () => (this.closed = true));
  }

  static open(port: number): Promise<RawCaller> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RawCaller(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Writes `data` and resolves once the socket took all of it (or failed: see `error`). */
  writeAll(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  /** The caller goes away. */
  abort(): void {
    this.socket.destroy();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get bytesReceived(): number {
    return this.received;
  }

  parsed(headRequest = false): ParsedWire {
    return parseAnswers(this.bytes(), this.closed, headRequest);
  }

  /** The first answer that is not a 1xx, once its head arrived. */
  final(): WireAnswer | undefined {
    return this.parsed().answers.find((a) => a.status >= 200);
  }

  got100(): boolean {
    return this.parsed().answers.some((a) => a.status === 100);
  }

  async waitFor(condition: () => boolean, what: string, limitMs = 15_000): Promise<void> {
    await until(condition, what, limitMs);
  }

  /** Until the answer is whole or the connection closed. */
  async settle(limitMs = 15_000): Promise<void> {
    await this.waitFor(() => this.closed || this.final()?.complete === true, 'an answer or the end of the connection', limitMs);
  }
}
