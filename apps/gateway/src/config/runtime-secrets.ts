import type { ProviderTls, ProviderTransport } from './provider-transport.js';

/** A provider's values that may change while the gateway runs (a rotated `*_FILE`). */
export type SecretField = 'clientSecret' | 'password' | 'privateKey';

/**
 * Where a provider's secrets are read when a token is requested, rather than copied into the
 * strategy once: the seam through which rotated values reach the next token request.
 */
export interface RuntimeSecrets {
  /** The provider's current value of `field`; undefined when it has none. */
  current(provider: string, field: SecretField): string | undefined;
  /** The provider's TLS material in use (checked as a whole at each rotation, see `tls-rotation.ts`); undefined: none. */
  tls(provider: string): ProviderTls | undefined;
}
export const RuntimeSecrets = Symbol('RuntimeSecrets');

/** Where rotated values come from: the secret files' watcher, once it runs. */
export interface SecretSource {
  current(provider: string, field: string): string | undefined;
}

/**
 * The secrets as read at start-up, in force until `follow` hands over a source of current values
 * (the `*_FILE` watcher), which then wins for the secrets it holds; TLS material from `tls` (the
 * rotation that checks it as a whole), else as read at start-up.
 */
export function startupSecrets(
  providers: ReadonlyArray<{ name: string; clientSecret: string; password?: string; privateKey?: string; transport?: ProviderTransport }>,
  tls?: { tls(provider: string): ProviderTls | undefined },
): RuntimeSecrets & { follow(source: SecretSource): void } {
  const values = new Map(providers.map((p) => [p.name, { clientSecret: p.clientSecret, password: p.password, privateKey: p.privateKey }]));
  const startupTls = new Map(providers.map((p) => [p.name, p.transport?.tls]));
  let source: SecretSource | undefined;
  return {
    current: (provider, field) => source?.current(provider, field) ?? values.get(provider)?.[field],
    tls: tls ? (provider) => tls.tls(provider) : (provider) => startupTls.get(provider),
    follow: (next) => (source = next),
  };
}
