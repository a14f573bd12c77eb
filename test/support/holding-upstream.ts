import { createServer, type Server, type ServerResponse } from 'node:http';
import { waitUntil } from './helpers.js';

/**
 * A provider's API whose `/api/hold` answers only when released, and `/api/stream` sends its head
 * and a first chunk at once but ends only when released (requests in flight for as long as a test
 * wants); anything else is answered at once.
 */
export class HoldingUpstream {
  readonly held: ServerResponse[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      if (req.url === '/api/hold') this.held.push(res);
      else if (req.url === '/api/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' }).write('first;');
        this.held.push(res);
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/api`;
  }

  /** Waits until `count` requests are held. */
  holding(count = 1): Promise<void> {
    return waitUntil(() => this.held.length >= count, `${count} request(s) held upstream`, 15_000);
  }

  release(): void {
    for (const res of this.held.splice(0)) (res.headersSent ? res : res.writeHead(200, { 'content-type': 'text/plain' })).end('released');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
