import { createServer, type Server, type ServerResponse } from 'node:http';
import { listenForTokens } from './counting-token-server.js';

/** How the endpoint misbehaves: each is an answer a broken partner really gives. */
export type Misbehaviour =
  /** A 200 announcing `Content-Length: 100000`, then one byte every `everyMs`: never idle, never done. */
  | { kind: 'trickle'; everyMs: number }
  /** A well-formed JSON answer of `bytes` bytes, larger than any token answer. */
  | { kind: 'oversize'; bytes: number }
  /** A redirect to another token endpoint. */
  | { kind: 'redirect'; status: number; location: string }
  /** A well-formed success answer with these fields. */
  | { kind: 'grant'; body: Record<string, unknown> };

export interface MisbehavingTokenServer {
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Changes what the next requests get. */
  behave(next: Misbehaviour): void;
  close(): Promise<void>;
}

/** A token endpoint on loopback playing a broken partner, one misbehaviour at a time. */
export async function startMisbehavingTokenServer(initial: Misbehaviour): Promise<MisbehavingTokenServer> {
  let behaviour = initial;
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      answer(behaviour, res, timers);
    });
  });
  const url = await listenForTokens(server);
  return {
    url,
    get requests() {
      return requests;
    },
    behave: (next) => {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(behaviour: Misbehaviour, res: ServerResponse, timers: Set<NodeJS.Timeout>): void {
  switch (behaviour.kind) {
    case 'trickle': {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      const timer = setInterval(() => res.write(' '), behaviour.everyMs);
      timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
      return;
    }
    case 'oversize': {
      const filler = 'x'.repeat(Math.max(0, behaviour.bytes - 40));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'a', padding: filler }));
      return;
    }
    case 'redirect':
      res.writeHead(behaviour.status, { location: behaviour.location, 'content-type': 'text/plain' });
      res.end('moved');
      return;
    case 'grant':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(behaviour.body));
  }
}
