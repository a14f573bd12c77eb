/** A provider's values that may change while the gateway runs (a rotated `*_FILE`). */
export type SecretField = 'clientSecret' | 'password';

/**
 * Where a provider's secrets are read when a token is requested, rather than copied into the
 * strategy once: the seam through which rotated values reach the next token request.
 */
export interface RuntimeSecrets {
  /** The provider's current value of `field`; undefined when it has none. */
  current(provider: string, field: SecretField): string | undefined;
}
export const RuntimeSecrets = Symbol('RuntimeSecrets');

/** The secrets as read at start-up, which stay in force until something feeds new ones. */
export function startupSecrets(providers: ReadonlyArray<{ name: string; clientSecret: string; password?: string }>): RuntimeSecrets {
  const values = new Map(providers.map((p) => [p.name, { clientSecret: p.clientSecret, password: p.password }]));
  return { current: (provider, field) => values.get(provider)?.[field] };
}
