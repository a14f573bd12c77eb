import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The floor the gateway is compared with: a bare `node:http` keep-alive reverse proxy that adds
 * one static header (the provider token) and streams both ways with `pipe`. No auth, no path
 * checks, no logging, no metrics. Run as a child of `run.ts`:
 * BARE_UPSTREAM=http://127.0.0.1:port/prio/api BARE_HEADER='authorization: Bearer x'.
 */
const upstream = new URL(process.env.BARE_UPSTREAM ?? '');
const basePath = upstream.pathname.replace(/\/+$/, '');
const [headerName = 'authorization', headerValue = ''] = (process.env.BARE_HEADER ?? '').split(/:\s*(.*)/s);
// Same cap as the gateway's undici pool (128 sockets per origin).
const agent = new Agent({ keepAlive: true, maxSockets: 128 });

const server = createServer((req, res) => {
  const headers = { ...req.headers, host: upstream.host, [headerName.toLowerCase()]: headerValue };
  const out = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: basePath + (req.url ?? '/'), headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  req.pipe(out);
});
server.keepAliveTimeout = 65_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ ready: true, url: `http://127.0.0.1:${port}` });
});
const stop = () => {
  server.closeAllConnections();
  agent.destroy();
  server.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
