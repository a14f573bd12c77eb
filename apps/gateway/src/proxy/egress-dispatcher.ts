import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { ProxyAgent, type Dispatcher } from 'undici';
import type { ProviderTls } from '../config/provider-transport.js';

/** Failures of the connection a proxied request opens, which is always the one to the proxy. */
const PROXY_CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** What undici's pool options the gateway sets, for a pool or for a proxy's. */
export interface PoolSettings {
  connections: number;
  headersTimeout: number;
  bodyTimeout: number;
  connectTimeout: number;
}

/** Node's roots plus the provider's CA, and its client certificate: the `connect` options of its API connections. */
export function tlsConnectOptions(tls: ProviderTls | undefined) {
  if (tls === undefined) return {};
  const { ca, cert, key, passphrase } = tls;
  return { ...(ca !== undefined && { ca: [...rootCertificates, ca] }), cert, key, passphrase };
}

/** Scheme, host and port of a proxy URL: what an error may show of it. */
export function proxyLabel(proxy: string): string {
  const url = new URL(proxy);
  return `${url.protocol}//${url.host}`;
}

/**
 * One provider's API through its egress proxy: undici's `ProxyAgent`, tunnelling `https:` APIs with
 * CONNECT and sending `http:` ones in absolute form (`proxyTunnel: false`), as curl does. Requests
 * are dispatched as to a pool (path only), so the API's origin is added here, and a failure says
 * which proxy it went through, without the proxy's credentials.
 */
export function egressDispatcher(apiOrigin: string, proxy: string, tls: ProviderTls | undefined, settings: PoolSettings) {
  const agent = new ProxyAgent({
    uri: proxy,
    proxyTunnel: new URL(apiOrigin).protocol === 'https:',
    connections: settings.connections,
    headersTimeout: settings.headersTimeout,
    bodyTimeout: settings.bodyTimeout,
    proxyTls: { timeout: settings.connectTimeout },
    requestTls: { timeout: settings.connectTimeout, ...tlsConnectOptions(tls) },
  });
  const label = proxyLabel(proxy);
  const dispatcher = agent.compose(
    (dispatch) => (options, handler) => dispatch({ ...options, origin: apiOrigin }, new ProxyNamingHandler(handler, label)),
  );
  return { dispatcher, close: () => agent.close(), destroy: () => agent.destroy() };
}

/** Passes everything through, and gives a failure the detail the caller's problem shows. */
class ProxyNamingHandler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly proxy: string,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.inner.onResponseError?.(controller, Object.assign(error, { detail: proxyDetail(error, this.proxy) }));
  }
}

function proxyDetail(error: Error, proxy: string): string {
  const code = (error as { code?: string }).code;
  // undici reports a refused CONNECT only in its message: "Proxy response (407) !== 200 when HTTP Tunneling".
  const refused = /^Proxy response \((\d+)\)/.exec(error.message);
  if (refused) return `proxy ${proxy} refused the tunnel (HTTP ${refused[1]})`;
  if (code !== undefined && PROXY_CONNECT_CODES.has(code)) return `proxy ${proxy} unreachable (${code})`;
  return `${code ?? 'error'} through proxy ${proxy}`;
}
