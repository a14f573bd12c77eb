import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Counts the requests the servers are answering: from their arrival to the end (or abort) of their answer. */
export function countInFlight(...servers: Array<Server | undefined>): () => number {
  let count = 0;
  const onRequest = (_request: IncomingMessage, response: ServerResponse) => {
    count++;
    response.once('close', () => count--);
  };
  for (const server of servers) server?.on('request', onRequest);
  return () => count;
}
