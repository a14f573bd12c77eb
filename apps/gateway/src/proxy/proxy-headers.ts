import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ForwardedFor } from './forwarded-for.js';

/**
 * Never forwarded in either direction: hop-by-hop headers (RFC 9110 §7.6.1), plus `expect`
 * (the gateway answers `100-continue` itself) and `proxy-connection` (a non-standard hop-by-hop).
 */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'expect',
];

/**
 * Never forwarded upstream: the caller's own credentials (`authorization`, `x-api-key`,
 * `cookie`), `host` (the upstream's is set by the client), the headers the gateway sets itself,
 * and headers by which a caller could pose as a proxy in front of the provider (`forwarded`,
 * `x-real-ip`, `x-forwarded-port`) or redirect the request inside it (`x-original-url`,
 * `x-rewrite-url`, which some servers prefer to the request line).
 */
const NOT_FORWARDED_UPSTREAM = new Set([
  ...HOP_BY_HOP,
  'authorization',
  'x-api-key',
  'host',
  'cookie',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-real-ip',
  'x-forwarded-port',
  'x-original-url',
  'x-rewrite-url',
]);
const NOT_RETURNED = new Set([...HOP_BY_HOP, 'x-request-id']);

/** Headers a `connection` header names as hop-by-hop (`close` and `keep-alive` are no header names worth it). */
function connectionNamed(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  const value = Array.isArray(connection) ? connection.join(',') : connection;
  if (value === 'keep-alive' || value === 'close') return undefined;
  return new Set(value.split(',').map((name) => name.trim().toLowerCase()));
}

/**
 * The headers sent upstream: the caller's, less the removed ones, plus `x-forwarded-*` and
 * `x-request-id`. Provider headers (`authorization`, LATAM's `access_token`...) are added by
 * `withProviderHeaders` since they change when the token does.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  requestId: string,
  forwardedFor: ForwardedFor,
): Record<string, string | string[]> {
  const incoming: IncomingHttpHeaders = req.headers;
  const named = connectionNamed(incoming.connection);
  const out = withoutHeaders(incoming, NOT_FORWARDED_UPSTREAM, named);
  out['x-forwarded-for'] = forwardedFor.header(req, !named?.has('x-forwarded-for'));
  out['x-forwarded-proto'] = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  if (incoming.host !== undefined) out['x-forwarded-host'] = incoming.host;
  out['x-request-id'] = requestId;
  return out;
}

const lowerCased = new WeakMap<Readonly<Record<string, string>>, Array<[string, string]>>();

/**
 * Sets the provider's headers for a token, replacing any caller header of the same name.
 * The lower-cased copy is cached per header object, which the library builds once per token.
 */
export function withProviderHeaders(
  headers: Record<string, string | string[]>,
  providerHeaders: Readonly<Record<string, string>>,
): Record<string, string | string[]> {
  let entries = lowerCased.get(providerHeaders);
  if (!entries) {
    entries = Object.entries(providerHeaders).map(([name, value]) => [name.toLowerCase(), value]);
    lowerCased.set(providerHeaders, entries);
  }
  for (const [name, value] of entries) headers[name] = value;
  return headers;
}

/** The upstream answer's headers as the caller gets them: hop-by-hop removed, our `x-request-id`. */
export function callerResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  requestId: string,
): Record<string, string | string[]> {
  const out = withoutHeaders(upstream, NOT_RETURNED, connectionNamed(upstream.connection));
  out['x-request-id'] = requestId;
  return out;
}

/** A copy of `headers` less the names in `dropped` and those the `connection` header named. */
function withoutHeaders(
  headers: Record<string, string | string[] | undefined>,
  dropped: ReadonlySet<string>,
  named: ReadonlySet<string> | undefined,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (dropped.has(name) || named?.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
