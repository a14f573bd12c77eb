// A forward proxy process for the egress tests: the `proxy` package (CONNECT and absolute form) on
// loopback, resolving `*.partner.test` to 127.0.0.1 itself, so that only requests sent through it
// reach those hosts. PROXY_CREDENTIALS=user:pass demands Basic credentials (407 without them).
// Prints its port, then one JSON line per request it gets (method, target, whether it had credentials).
import dns from 'node:dns';
import { createServer } from 'node:http';
import { createProxy } from 'proxy';

const systemLookup = dns.lookup;
dns.lookup = (host, options, callback) => {
  if (typeof options === 'function') return dns.lookup(host, {}, options);
  if (!/\.partner\.test$/i.test(host)) return systemLookup(host, options, callback);
  return options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
};

const expected = process.env.PROXY_CREDENTIALS ? `Basic ${Buffer.from(process.env.PROXY_CREDENTIALS).toString('base64')}` : undefined;
const server = createServer();
const record = (req) =>
  process.stdout.write(`${JSON.stringify({ method: req.method, target: req.url, credentials: 'proxy-authorization' in req.headers })}\n`);
server.on('request', record);
server.on('connect', record);
createProxy(server);
if (expected !== undefined) server.authenticate = (req) => req.headers['proxy-authorization'] === expected;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
