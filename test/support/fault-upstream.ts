import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the upstream does with `…/api/{behaviour}/{id}`:
 * - `ok`: reads the body, answers 200 with its length.
 * - `hold`: reads the body and answers only when released (`release`), to fill a pool.
 * - `reset-head`: destroys the connection as soon as the request head arrives.
 * - `reset-body` / `hang-body`: at the first body byte, destroys the connection / stops reading and never answers.
 * - `reset-complete` / `hang-complete`: reads the whole request, then destroys the connection / never answers.
 * - `answer-reset` / `answer-hang`: reads the whole request, sends the head of a 1 MiB answer and
 *   16 KiB of it, then destroys the connection / stops sending.
 * - `big`: reads the whole request, then streams a 64 MiB answer with back-pressure.
 */
export type UpstreamBehaviour =
  'ok' | 'hold' | 'reset-head' | 'reset-body' | 'hang-body' | 'reset-complete' | 'hang-complete' | 'answer-reset' | 'answer-hang' | 'big';

const BEHAVIOURS: ReadonlySet<string> = new Set<UpstreamBehaviour>([
  'ok',
  'hold',
  'reset-head',
  'reset-body',
  'hang-body',
  'reset-complete',
  'hang-complete',
  'answer-reset',
  'answer-hang',
  'big',
]);

export const BIG_ANSWER_BYTES = 64 * 1024 * 1024;
const PARTIAL_ANSWER_BYTES = 1024 * 1024;
const CHUNK = Buffer.alloc(16 * 1024, 0x61);

/** One request as the upstream saw it. */
export interface UpstreamRecord {
  path: string;
  behaviour: string;
  bodyBytes: number;
  /** The whole request arrived. */
  complete: boolean;
  /** The connection closed before the upstream finished its answer. */
  cutShort: boolean;
  answered: boolean;
}

/**
 * A provider API on loopback that misbehaves on request, for the fault suites. Every answer says
 * `connection: close`, so after a cell the gateway holds no idle connection to it and its
 * descriptor count can be compared with the baseline.
 */
export class FaultUpstream {
  readonly records = new Map<string, UpstreamRecord>();
  /** Every request target received, in order (the fuzz suite checks them against the base paths). */
  readonly targets: string[] = [];
  private readonly held = new Map<string, ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.serve(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The API base URL for a provider named `name`. */
  apiUrl(name: string): string {
    return `http://127.0.0.1:${this.port}/${name}/api`;
  }

  record(id: string): UpstreamRecord | undefined {
    return this.records.get(id);
  }

  heldCount(): number {
    return this.held.size;
  }

  /** Answers every `hold` request. */
  releaseAll(): void {
    for (const [id, res] of this.held) {
      this.held.delete(id);
      if (!res.destroyed) this.answer(res, id, 200, '{"held":true}');
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    this.targets.push(url);
    const [, , , named = 'ok', id = `anonymous-${this.targets.length}`] = url.split('?')[0].split('/');
    const behaviour = BEHAVIOURS.has(named) ? named : 'ok';
    const record: UpstreamRecord = { path: url, behaviour, bodyBytes: 0, complete: false, cutShort: false, answered: false };
    this.records.set(id, record);
    res.on('close', () => (record.cutShort = !record.answered));
    if (behaviour === 'reset-head') return void req.socket.destroy();
    req.on('data', (chunk: Buffer) => {
      record.bodyBytes += chunk.length;
      if (behaviour === 'reset-body') req.socket.destroy();
      if (behaviour === 'hang-body') req.pause();
    });
    req.on('end', () => {
      record.complete = true;
      switch (behaviour) {
        case 'reset-complete':
          return void req.socket.destroy();
        case 'hang-complete':
        case 'hang-body':
          return;
        case 'hold':
          return void this.held.set(id, res);
        case 'answer-reset':
        case 'answer-hang':
          res.writeHead(200, { 'content-length': String(PARTIAL_ANSWER_BYTES), connection: 'close' });
          res.write(CHUNK);
          if (behaviour === 'answer-reset') setImmediate(() => req.socket.destroy());
          return;
        case 'big':
          return void this.stream(res, record);
        default:
          this.answer(res, id, 200, JSON.stringify({ bytes: record.bodyBytes }));
      }
    });
  }

  private answer(res: ServerResponse, id: string, status: number, body: string): void {
    const record = this.records.get(id);
    if (record) record.answered = true;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close' });
    res.end(body);
  }

  private stream(res: ServerResponse, record: UpstreamRecord): void {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG_ANSWER_BYTES), connection: 'close' });
    let sent = 0;
    const more = () => {
      while (sent < BIG_ANSWER_BYTES && !res.destroyed) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once('drain', more);
      }
      if (res.destroyed) return;
      record.answered = true;
      res.end();
    };
    more();
  }
}
