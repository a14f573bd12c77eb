import { Agent as HttpAgent, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates, type SecureContextOptions } from 'node:tls';
import type { HttpsProxyAgent as HttpsProxyAgentType } from 'https-proxy-agent';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';

/** The agents axios is given for one provider's transport. */
export interface TransportAgents {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
  /** The proxy as it may be shown (scheme, host, port), never with its credentials; absent: direct. */
  proxy?: string;
  /** CONNECT requests the proxy refused, by request, with its status. */
  refused: WeakMap<object, number>;
}

/** Whether the transport needs agents of its own (else axios' defaults, as without a transport). */
export function needsAgents(transport: TokenTransport | undefined): transport is TokenTransport {
  return transport !== undefined && (proxyUrl(transport) !== undefined || tlsOptions(transport) !== undefined);
}

/**
 * Keep-alive agents carrying the transport's CA (added to Node's roots, not replacing them) and
 * client certificate; with a proxy, `https-proxy-agent` (CONNECT) and `http-proxy-agent` (absolute
 * form), which put the URL's credentials in `Proxy-Authorization`. Both are loaded only when a
 * proxy is configured, since they are ES modules only.
 */
export async function transportAgents(transport: TokenTransport): Promise<TransportAgents> {
  const tls = tlsOptions(transport) ?? {};
  const proxy = proxyUrl(transport);
  const refused = new WeakMap<object, number>();
  if (proxy === undefined) {
    return { httpAgent: new HttpAgent({ keepAlive: true }), httpsAgent: new HttpsAgent({ keepAlive: true, ...tls }), refused };
  }
  const [{ HttpsProxyAgent }, { HttpProxyAgent }] = await Promise.all([import('https-proxy-agent'), import('http-proxy-agent')]);
  // The agent's own options go to the proxy connection only; the target's TLS options ride on each connect.
  const httpsAgent = new (class extends HttpsProxyAgent<string> {
    override connect(request: ClientRequest, options: Parameters<HttpsProxyAgentType<string>['connect']>[1]) {
      return super.connect(request, { ...options, ...tls });
    }
  })(proxy.href, { keepAlive: true });
  httpsAgent.on('proxyConnect', (answer: { statusCode: number }, request: object) => {
    if (answer.statusCode !== 200) refused.set(request, answer.statusCode);
  });
  return { httpAgent: new HttpProxyAgent(proxy, { keepAlive: true }), httpsAgent, proxy: proxyLabel(proxy), refused };
}

/** Scheme, host and port of a proxy URL: what errors and logs may show of it. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

function proxyUrl(transport: TokenTransport): URL | undefined {
  return transport.proxy === undefined || transport.proxy === 'none' ? undefined : new URL(transport.proxy);
}

function tlsOptions(transport: TokenTransport): SecureContextOptions | undefined {
  const { ca, cert, key, passphrase } = transport;
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  return { ...(ca !== undefined && { ca: [...rootCertificates, ca] }), cert, key, passphrase };
}
