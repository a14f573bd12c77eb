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
 */
export type PartnerBehaviour =
  'ok' | 'echo' | 'hold' | 'info-storm' | 'head-close' | 'bad-chunk' | 'body-on-204' | 'part-close' | 'part-hang';

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
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.resume(); // bodies are read and ignored
      this.answer(socket, received.subarray(0, end + 4));
    };
    socket.on('data', onData);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private answer(socket: Socket, head: Buffer): void {
    const target = head.toString('latin1').split(' ')[1];
    const behaviour = target.split('?')[0].split('/')[3] ?? 'ok';
    this.arrived.set(behaviour, this.count(behaviour as PartnerBehaviour) + 1);
    const write = (text: string) => !socket.destroyed && socket.write(text, 'latin1');
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
