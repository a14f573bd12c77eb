import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { getProxyForUrl } from 'proxy-from-env';
import { readSecretFile } from './secret-file.read.js';

/** The TLS material one provider uses towards its token endpoint and its API alike. */
export interface ProviderTls {
  /** PEM bundle of private CAs, trusted in addition to Node's bundled roots. */
  ca?: string;
  /** PEM client certificate and its key, presented to both (mutual TLS). */
  cert?: string;
  key?: string;
  passphrase?: string;
}

/** How one provider is reached: `<NAME>_TLS_*` and the proxy that applies to each of its URLs. */
export interface ProviderTransport {
  tls?: ProviderTls;
  /** Proxy URL for the token URL; undefined: direct. */
  tokenProxy?: string;
  /** Proxy URL for the API URL; undefined: direct. */
  apiProxy?: string;
  /** When the client certificate stops being valid (ms since the epoch), for the expiry gauge. */
  certExpiresAt?: number;
}

/** PEM bundles are small; a larger file is the wrong file. */
export const MAX_PEM_BYTES = 1024 * 1024;

/** The proxy variables `proxy-from-env` reads, in both cases, as curl and axios honour them. */
const PROXY_VARIABLES = 'HTTPS_PROXY HTTP_PROXY ALL_PROXY NO_PROXY'.split(' ').flatMap((name) => [name, name.toLowerCase()]);

/**
 * Reads `<PREFIX>_PROXY` and `<PREFIX>_TLS_CA`, `_TLS_CERT`, `_TLS_KEY`, `_TLS_KEY_PASSPHRASE` (each
 * also `_FILE`), and decides the proxy of each URL: `<PREFIX>_PROXY` (a URL, or `none`) when set,
 * else the standard variables. Undefined when the provider is reached directly with Node's roots.
 * Problems name the variable, never its value (a proxy URL may carry credentials).
 */
export function readTransport(
  prefix: string,
  env: Record<string, string>,
  problems: string[],
  urls: { tokenUrl: string; apiUrl: string },
  now = Date.now(),
): ProviderTransport | undefined {
  const tls = readTls(prefix, env, problems, now);
  const override = env[`${prefix}_PROXY`];
  if (override !== undefined && override !== 'none' && !isProxyUrl(override)) {
    problems.push(`${prefix}_PROXY: must be an http:// or https:// URL, or none`);
    return undefined;
  }
  const proxyFor = (url: string) => {
    if (override !== undefined) return override === 'none' ? undefined : override;
    const fromEnv = proxyFromEnv(url, env);
    if (fromEnv === undefined || isProxyUrl(fromEnv)) return fromEnv;
    const line = `${new URL(url).protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY'}: must be an http:// or https:// URL`;
    if (!problems.includes(line)) problems.push(line);
    return undefined;
  };
  const transport = { ...tls, tokenProxy: proxyFor(urls.tokenUrl), apiProxy: proxyFor(urls.apiUrl) };
  return transport.tls === undefined && transport.tokenProxy === undefined && transport.apiProxy === undefined ? undefined : transport;
}

/**
 * The library's transport for the token endpoint: the TLS material as functions reading `current`
 * (the material in use, which a rotation replaces as a whole), so that the library's agents follow it.
 */
export function tokenTransport(transport: ProviderTransport | undefined, current: () => ProviderTls | undefined) {
  if (transport === undefined) return undefined;
  const startup = transport.tls ?? {};
  const material: Partial<Record<keyof ProviderTls, () => string>> = {};
  for (const option of ['ca', 'cert', 'key', 'passphrase'] as const) {
    const value = startup[option];
    if (value !== undefined) material[option] = () => current()?.[option] ?? value;
  }
  return { ...material, proxy: transport.tokenProxy ?? 'none' };
}

function readTls(prefix: string, env: Record<string, string>, problems: string[], now: number) {
  const before = problems.length;
  const get = (suffix: string) => readPem(`${prefix}_${suffix}`, env, problems);
  const tls: ProviderTls = { ca: get('TLS_CA'), cert: get('TLS_CERT'), key: get('TLS_KEY'), passphrase: get('TLS_KEY_PASSPHRASE') };
  if (problems.length > before) return {};
  if (tls.ca === undefined && tls.cert === undefined && tls.key === undefined) return {};
  const checked = checkTls(prefix, tls, now);
  problems.push(...checked.problems);
  return checked.problems.length > 0 ? {} : { tls, certExpiresAt: checked.certExpiresAt };
}

/**
 * A provider's TLS material checked as a whole, at start-up and at each rotation of its files: the
 * certificate and key go together, match and open (with the passphrase), the CA bundle parses and
 * the certificate has not expired at `now`. Each problem is a line naming its variable, never a value.
 */
export function checkTls(prefix: string, tls: ProviderTls, now: number): { problems: string[]; certExpiresAt?: number } {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'TLS_CERT' : 'TLS_KEY';
    return { problems: [`${prefix}_${missing}: missing (${prefix}_TLS_CERT and ${prefix}_TLS_KEY go together)`] };
  }
  const problems: string[] = [];
  const caProblem = tls.ca === undefined ? undefined : certificatesProblem(tls.ca);
  if (caProblem !== undefined) problems.push(`${prefix}_TLS_CA: not a PEM certificate bundle (${caProblem})`);
  if (tls.cert === undefined) return { problems };
  try {
    createSecureContext({ cert: tls.cert, key: tls.key, passphrase: tls.passphrase });
  } catch (error) {
    problems.push(`${prefix}_TLS_KEY: does not match ${prefix}_TLS_CERT, or cannot be opened (${(error as Error).message})`);
    return { problems };
  }
  const expiresAt = Date.parse(new X509Certificate(tls.cert).validTo);
  if (expiresAt <= now) problems.push(`${prefix}_TLS_CERT: the client certificate expired on ${new Date(expiresAt).toISOString()}`);
  return { problems, certExpiresAt: expiresAt };
}

/** A variable given directly or as `<NAME>_FILE` (a regular file of at most 1 MiB). */
function readPem(name: string, env: Record<string, string>, problems: string[]): string | undefined {
  const path = env[`${name}_FILE`];
  if (path === undefined) return env[name];
  if (env[name] !== undefined) {
    problems.push(`${name}: set twice, directly and through ${name}_FILE (keep one)`);
    return undefined;
  }
  const read = readSecretFile(path, MAX_PEM_BYTES);
  if (read.problem === undefined) return read.value;
  problems.push(`${name}_FILE: ${read.problem}`);
  return undefined;
}

/** Node takes a CA bundle without a certificate in it silently: each PEM block must parse, and there must be one. */
function certificatesProblem(bundle: string): string | undefined {
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null) return 'no BEGIN CERTIFICATE block';
  try {
    for (const block of blocks) new X509Certificate(block);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function isProxyUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * `proxy-from-env`'s answer for `url` under the gateway's environment: it reads only
 * `process.env`, so it is shown exactly the proxy variables of the environment being parsed.
 */
function proxyFromEnv(url: string, env: Record<string, string>): string | undefined {
  const processEnv = process.env;
  process.env = Object.fromEntries(PROXY_VARIABLES.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
  try {
    return getProxyForUrl(url) || undefined;
  } finally {
    process.env = processEnv;
  }
}
