import { createHash } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { OAuthConfigurationError } from '../errors/oauth-configuration.error.js';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';

/**
 * A secret (`clientSecret`, `password`, `privateKey`): its value, or a function that returns it,
 * called at each token request, so that a rotated secret is used without rebuilding the strategy.
 */
export type Credential = string | (() => string | Promise<string>);

/**
 * Checks made when a built-in strategy is built, so a mistake stops start-up with the provider and
 * the option named, instead of surfacing as a refused token request or a circuit opened on a URL
 * that never parsed. Values are never echoed: they may be secrets.
 */

/** A non-empty string (not only whitespace). */
export function requireText(provider: string, option: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim().length === 0)
    throw new OAuthConfigurationError(provider, option, 'must be a non-empty string');
}

/** An absolute http: or https: URL. */
export function requireTokenUrl(provider: string, value: unknown, option = 'tokenUrl'): void {
  requireText(provider, option, value);
  let url: URL;
  try {
    url = new URL(value as string);
  } catch {
    throw new OAuthConfigurationError(provider, option, 'is not a URL (it does not parse)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OAuthConfigurationError(provider, option, 'must be an http: or https: URL');
}

/** RFC 8707 §2: a resource indicator is an absolute URI without a fragment. */
export function requireResource(provider: string, value: unknown): void {
  requireText(provider, 'resource', value);
  if (!URL.canParse(value as string) || (value as string).includes('#'))
    throw new OAuthConfigurationError(provider, 'resource', 'must be an absolute URI without a fragment (RFC 8707)');
}

/**
 * The checks every partner strategy starts with: its name (the option, else `type`), where to ask,
 * the client's id and secret, and the transport. Returns the name the provider is registered under.
 */
export function checkedClient(
  type: string,
  options: { name?: unknown; tokenUrl: unknown; clientId: unknown; clientSecret: unknown; transport?: TokenTransport },
): string {
  const name = providerName(options.name, type);
  requireClientOptions(name, options);
  requireTransport(name, options.transport);
  return name;
}

/** The resource owner of a password grant: a user name and its password (a credential, so possibly a function). */
export function requireUser(provider: string, options: { username?: unknown; password?: unknown }): void {
  requireText(provider, 'username', options.username);
  requireCredential(provider, 'password', options.password);
}

/** What every built-in strategy needs: where to ask, and the client's id and secret. */
export function requireClientOptions(provider: string, options: { tokenUrl: unknown; clientId: unknown; clientSecret: unknown }): void {
  requireTokenUrl(provider, options.tokenUrl);
  requireText(provider, 'clientId', options.clientId);
  requireCredential(provider, 'clientSecret', options.clientSecret);
}

/** A `Credential`: a non-empty string is checked now; a function only when a token request calls it. */
export function requireCredential(provider: string, option: string, value: unknown): void {
  if (typeof value !== 'function') requireText(provider, option, value);
}

/** How long a credential function may take: one that never settles must not hold every caller of its provider. */
export const CREDENTIAL_TIMEOUT_MS = 5000;

/**
 * A credential's value for one token request. A function that throws, takes longer than `timeoutMs`
 * or returns anything but a non-empty string fails this request as `unavailable` (retried with
 * backoff, as a secret store that hiccups deserves) with the code `credential_unavailable`; neither
 * its value nor its error's message is repeated, they may hold the secret.
 */
export async function readCredential(
  provider: string,
  option: string,
  value: Credential,
  timeoutMs = CREDENTIAL_TIMEOUT_MS,
): Promise<string> {
  if (typeof value === 'string') return value;
  let read: unknown;
  try {
    read = await withTimeout(value, timeoutMs);
  } catch (cause) {
    if (cause instanceof TimedOut) throw credentialUnavailable(provider, `the ${option} function gave no value within ${timeoutMs} ms`);
    throw credentialUnavailable(provider, `the ${option} function threw (${cause instanceof Error ? cause.name : typeof cause})`);
  }
  if (typeof read !== 'string' || read.trim().length === 0)
    throw credentialUnavailable(provider, `the ${option} function returned no value`);
  return read;
}

export function credentialUnavailable(provider: string, description: string): OAuthProviderError {
  return new OAuthProviderError({ provider, kind: 'unavailable', code: 'credential_unavailable', description });
}

/**
 * A SHA-256 of the credentials' current values (each read as a token request would), for
 * `TokenStrategy.credentialsFingerprint`: it changes when a secret is rotated and never reveals one.
 * A credential that cannot be read (in `timeoutMs`) counts as a value of its own; this never rejects.
 */
export async function credentialsFingerprint(
  credentials: ReadonlyArray<Credential | undefined>,
  timeoutMs = CREDENTIAL_TIMEOUT_MS,
): Promise<string> {
  const hash = createHash('sha256');
  for (const credential of credentials) {
    let value: string;
    try {
      value =
        credential === undefined ? '' : typeof credential === 'string' ? credential : String(await withTimeout(credential, timeoutMs));
    } catch {
      value = '\u0000unreadable';
    }
    // Length-prefixed, so that two credentials never run together into the same bytes.
    hash.update(`${Buffer.byteLength(value)}:${value}`);
  }
  return hash.digest('hex');
}

/** One of `allowed`, when given at all. */
export function requireOneOf(provider: string, option: string, value: unknown, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string)) {
    throw new OAuthConfigurationError(provider, option, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
}

/** The provider's name: the option when given (it must then be usable), else the strategy's default. */
export function providerName(name: unknown, fallback: string): string {
  if (name === undefined) return fallback;
  requireText(fallback, 'name', name);
  return name as string;
}

class TimedOut extends Error {}

/** `read()`, or a rejection with `TimedOut` once `ms` have passed (the timer never holds the process). */
async function withTimeout<T>(read: () => T | Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut()), ms).unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(read), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A transport that can work: a proxy that is `'none'` or an http(s) URL, and PEM material that
 * Node accepts (`tls.createSecureContext` throws on a key that does not match its certificate).
 * Material given as functions is checked when a token request reads it (see `transport-agents.ts`).
 */
export function requireTransport(provider: string, transport: TokenTransport | undefined): void {
  if (transport === undefined) return;
  const { proxy, ca, cert, key, passphrase } = transport;
  if (proxy !== undefined && proxy !== 'none') {
    let url: URL | undefined;
    try {
      url = new URL(proxy);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new OAuthConfigurationError(provider, 'transport.proxy', "must be an http: or https: URL, or 'none'");
  }
  if ((cert === undefined) !== (key === undefined))
    throw new OAuthConfigurationError(
      provider,
      cert === undefined ? 'transport.cert' : 'transport.key',
      'goes with transport.key and transport.cert',
    );
  for (const [option, value] of Object.entries({ ca, cert, key, passphrase })) {
    if (value !== undefined && typeof value !== 'string' && typeof value !== 'function')
      throw new OAuthConfigurationError(provider, `transport.${option}`, 'must be a string or a function that returns one');
  }
  // Material given as functions is read, and checked, at each token request; the rest is checked now.
  const value = (material: unknown) => (typeof material === 'string' ? material : undefined);
  const pairNow = typeof cert === 'string' && typeof key === 'string' && typeof passphrase !== 'function';
  try {
    createSecureContext({ ca: value(ca), ...(pairNow && { cert, key, passphrase: value(passphrase) }) });
  } catch (error) {
    throw new OAuthConfigurationError(provider, 'transport', `is not usable (${(error as Error).message})`);
  }
}
