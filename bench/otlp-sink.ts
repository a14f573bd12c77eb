import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the tracing rows export to, in its own process: an OTLP/HTTP endpoint that reads every
 * export request whole and answers 200, as a collector does, and counts them. Decoding the spans
 * would only cost this process CPU; the tracing suite checks their content against a real receiver.
 * Prints `listening <port>`; `GET /count` answers `{ requests, bytes }` received on `/v1/traces`.
 */
let requests = 0;
let bytes = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ requests, bytes }));
    return;
  }
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    if (req.url === '/v1/traces') requests += 1;
    res.statusCode = req.url === '/v1/traces' ? 200 : 404;
    res.setHeader('content-type', 'application/x-protobuf');
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
