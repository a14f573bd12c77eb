import { Agent as HttpAgent, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContextOptions } from 'node:tls';
import type { HttpsProxyAgent as HttpsProxyAgentType } from 'https-proxy-agent';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { TokenTransport, TransportMaterial } from '../interfaces/token-transport.interface.js';

/** The transport's PEM material as read for one token request (functions called). */
export interface TransportPem {
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
}

const PEM_OPTIONS = ['ca', 'cert', 'key', 'passphrase'] as const;

/** How long a material function may take: one that never settles must not hold every token request of its provider. */
const MATERIAL_TIMEOUT_MS = 5000;
const EXPIRED = Symbol('expired');

/** The agents axios is given for one provider's transport. */
export interface TransportAgents {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
  /** The proxy as it may be shown (scheme, host, port), never with its credentials; absent: direct. */
  proxy?: string;
  /** CONNECT requests the proxy refused, by request, with its status. */
  refused: WeakMap<object, number>;
  /** The material they were built with: other material read later means new agents. */
  pem: TransportPem;
}

/** Whether the transport needs agents of its own (else axios' defaults, as without a transport). */
export function needsAgents(transport: TokenTransport | undefined): transport is TokenTransport {
  return transport !== undefined && (proxyUrl(transport) !== undefined || PEM_OPTIONS.some((option) => transport[option] !== undefined));
}

/**
 * The transport's material for one token request: strings as they are, functions called. A function
 * that throws, takes longer than 5 s or returns anything but a non-empty string fails the request as
 * `unavailable` / `credential_unavailable`, without repeating its value or its error's message.
 */
export async function readTransportPem(provider: string, transport: TokenTransport): Promise<TransportPem> {
  const pem: TransportPem = {};
  for (const option of PEM_OPTIONS) {
    const material = transport[option];
    if (material !== undefined) pem[option] = typeof material === 'string' ? material : await readMaterial(provider, option, material);
  }
  return pem;
}

/** Same material: identity first, so that the unchanged strings a rotating source hands out again compare at once. */
export function samePem(a: TransportPem, b: TransportPem): boolean {
  return PEM_OPTIONS.every((option) => a[option] === b[option]);
}

/**
 * Material read from functions is checked before agents are built on it, as a strategy checks
 * strings when it is built: a pair that does not match fails the request, naming no value.
 */
export function pemProblem(pem: TransportPem): string | undefined {
  if ((pem.cert === undefined) !== (pem.key === undefined)) return 'transport.cert goes with transport.key';
  try {
    createSecureContext(pem);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Agents replaced by newer material: requests on them finish, then their sockets close instead of being kept alive. */
export function retireAgents(agents: TransportAgents): void {
  for (const agent of [agents.httpAgent, agents.httpsAgent]) {
    // Node's documented hook: a socket freed by its request is destroyed instead of kept for the next.
    agent.keepSocketAlive = () => false;
    for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }
}

/**
 * Keep-alive agents carrying the transport's CA (added to Node's roots, not replacing them) and
 * client certificate; with a proxy, `https-proxy-agent` (CONNECT) and `http-proxy-agent` (absolute
 * form), which put the URL's credentials in `Proxy-Authorization`. Both are loaded only when a
 * proxy is configured, since they are ES modules only.
 */
export async function transportAgents(transport: TokenTransport, pem: TransportPem): Promise<TransportAgents> {
  const tls = tlsOptions(pem) ?? {};
  const proxy = proxyUrl(transport);
  const refused = new WeakMap<object, number>();
  if (proxy === undefined) {
    return { httpAgent: new HttpAgent({ keepAlive: true }), httpsAgent: new HttpsAgent({ keepAlive: true, ...tls }), refused, pem };
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
  return { httpAgent: new HttpProxyAgent(proxy, { keepAlive: true }), httpsAgent, proxy: proxyLabel(proxy), refused, pem };
}

/** Scheme, host and port of a proxy URL: what errors and logs may show of it. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

function proxyUrl(transport: TokenTransport): URL | undefined {
  return transport.proxy === undefined || transport.proxy === 'none' ? undefined : new URL(transport.proxy);
}

function tlsOptions(pem: TransportPem): SecureContextOptions | undefined {
  const { ca, cert, key, passphrase } = pem;
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  return { ...(ca !== undefined && { ca: [...rootCertificates, ca] }), cert, key, passphrase };
}

async function readMaterial(provider: string, option: string, read: Exclude<TransportMaterial, string>): Promise<string> {
  const unavailable = (description: string) =>
    new OAuthProviderError({ provider, kind: 'unavailable', code: 'credential_unavailable', description });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof EXPIRED>((resolve) => (timer = setTimeout(() => resolve(EXPIRED), MATERIAL_TIMEOUT_MS).unref()));
  let value: unknown;
  try {
    value = await Promise.race([Promise.resolve().then(read), expired]);
  } catch (cause) {
    throw unavailable(`the transport.${option} function threw (${cause instanceof Error ? cause.name : typeof cause})`);
  } finally {
    clearTimeout(timer);
  }
  if (value === EXPIRED) throw unavailable(`the transport.${option} function gave no value within ${MATERIAL_TIMEOUT_MS} ms`);
  if (typeof value !== 'string' || value.trim().length === 0) throw unavailable(`the transport.${option} function returned no value`);
  return value;
}
