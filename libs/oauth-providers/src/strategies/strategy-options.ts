import { createSecureContext } from 'node:tls';
import { OAuthConfigurationError } from '../errors/oauth-configuration.error.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';

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

/** What every built-in strategy needs: where to ask, and the client's id and secret. */
export function requireClientOptions(provider: string, options: { tokenUrl: unknown; clientId: unknown; clientSecret: unknown }): void {
  requireTokenUrl(provider, options.tokenUrl);
  requireText(provider, 'clientId', options.clientId);
  requireText(provider, 'clientSecret', options.clientSecret);
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

/**
 * A transport that can work: a proxy that is `'none'` or an http(s) URL, and PEM material that
 * Node accepts (`tls.createSecureContext` throws on a key that does not match its certificate).
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
  try {
    createSecureContext({ ca, cert, key, passphrase });
  } catch (error) {
    throw new OAuthConfigurationError(provider, 'transport', `is not usable (${(error as Error).message})`);
  }
}
