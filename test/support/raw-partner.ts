import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * What the partner does with `…/api/{behaviour}/{id}` (the body of a request, if any, is ignored):
 * - `ok`: a small 200.
 * - `echo`: a 200 whose body is the request head exactly as received, in latin1.
 * - `hold`: never answers (until the connection closes).
 * - `info-storm`: a `102 Processing` every 5 ms, never a final answer.
 * - `head-close`: the head of a 100-byte answer, then the end of the connection.
 * - `bad-chunk`: the head of a chunked answer, then a chunk size that is not hexadecimal.
 * - `body-on-204`: a `204` announcing 5 bytes of content, and those bytes.
 * - `part-close` / `part-hang`: the head of a 100-byte answer and 40 of its bytes, then (50 ms
 *   later) the end of the connection / nothing more.
 * Keeping the connection for the next request (these take no request body):
 * - `ok-keep`: a small 200.
 * - `bytes-after-204`, `bytes-after-304`, `bytes-after-head` (for `HEAD`): an answer that has no
 *   content (the `HEAD` one says `connection: keep-alive`, so that undici keeps it), followed in
 *   the same write by bytes nothing announced: a whole forged answer, `SMUGGLED`.
 * - `late-bytes-after-204`: the `204`, then the forged answer 50 ms later.
 */
export type PartnerBehaviour =
  | 'ok'
  | 'echo'
  | 'hold'
  | 'info-storm'
  | 'head-close'
  | 'bad-chunk'
  | 'body-on-204'
  | 'part-close'
  | 'part-hang'
  | 'ok-keep'
  | 'bytes-after-204'
  | 'bytes-after-304'
  | 'bytes-after-head'
  | 'late-bytes-after-204';

/** What the partner writes after an answer that has no content: a whole answer, which must never reach a caller. */
export const SMUGGLED = 'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled';

/**
 * A provider API written on raw sockets, so that it can break HTTP where a real server would not:
 * 1xx storms, bodies where none may be, answers that end before their framing says. One request
 * per connection: a whole answer says `connection: close`.
 */
export class RawPartner {
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  /** How many requests arrived, by behaviour. */
  readonly arrived = new Map<string, number>();
  /** How many connections closed, by the behaviour of their last request. */
  readonly closed = new Map<string, number>();
  /** Requests that arrived on a connection that had already carried one. */
  reused = 0;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The API base URL for a provider named `name`. */
  apiUrl(name: string): string {
    return `http://127.0.0.1:${this.port}/${name}/api`;
  }

  count(behaviour: PartnerBehaviour): number {
    return this.arrived.get(behaviour) ?? 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    let served = 0;
    let last = '';
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = received.subarray(0, end + 4);
      received = received.subarray(end + 4);
      if (served++ > 0) this.reused++;
      last = this.behaviourOf(head);
      if (this.answer(socket, head, last)) return;
      socket.off('data', onData);
      socket.resume(); // bodies are read and ignored
    };
    socket.on('data', onData);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closed.set(last, (this.closed.get(last) ?? 0) + 1);
    });
  }

  private behaviourOf(head: Buffer): string {
    const target = head.toString('latin1').split(' ')[1];
    return target.split('?')[0].split('/')[3] ?? 'ok';
  }

  /** Answers one request; true when the connection stays open for the next one. */
  private answer(socket: Socket, head: Buffer, behaviour: string): boolean {
    this.arrived.set(behaviour, this.count(behaviour as PartnerBehaviour) + 1);
    const write = (text: string) => !socket.destroyed && socket.write(text, 'latin1');
    const keeping: Record<string, string> = {
      'ok-keep': 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}',
      'bytes-after-204': `HTTP/1.1 204 No Content\r\n\r\n${SMUGGLED}`,
      'bytes-after-304': `HTTP/1.1 304 Not Modified\r\netag: "1"\r\n\r\n${SMUGGLED}`,
      'bytes-after-head': `HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: keep-alive\r\n\r\n${SMUGGLED}`,
      'late-bytes-after-204': 'HTTP/1.1 204 No Content\r\n\r\n',
    };
    if (behaviour in keeping) {
      write(keeping[behaviour]);
      if (behaviour === 'late-bytes-after-204') setTimeout(() => write(SMUGGLED), 50);
      return true;
    }
    this.answerOnce(socket, head, behaviour, write);
    return false;
  }

  private answerOnce(socket: Socket, head: Buffer, behaviour: string, write: (text: string) => boolean): void {
    switch (behaviour) {
      case 'echo':
        write(`HTTP/1.1 200 OK\r\ncontent-length: ${head.length}\r\nconnection: close\r\n\r\n`);
        return void socket.end(head);
      case 'hold':
        return;
      case 'info-storm': {
        const timer = setInterval(() => write('HTTP/1.1 102 Processing\r\n\r\n'), 5);
        return void socket.once('close', () => clearInterval(timer));
      }
      case 'head-close':
        write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n');
        return void socket.end();
      case 'bad-chunk':
        write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n');
        return;
      case 'body-on-204':
        write('HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nhello');
        return;
      case 'part-close':
      case 'part-hang':
        write(`HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n${'x'.repeat(40)}`);
        if (behaviour === 'part-close') setTimeout(() => socket.end(), 50);
        return;
      default:
        write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n');
        socket.end('{"ok":true}');
    }
  }
}
