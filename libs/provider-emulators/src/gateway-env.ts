import type { EmulatedEndpoint, ProviderEmulators } from './emulator.types.js';

/** The gateway's providers under `gatewayEnv`, each with the emulated endpoint that answers it. */
export const GATEWAY_PROVIDERS: ReadonlyArray<readonly [provider: string, emulated: EmulatedEndpoint]> = [
  ['latam', 'latam'],
  ['transatel', 'transatel'],
  ['payme', 'payme'],
  ['prio', 'prio'],
  ['sabre', 'sabre'],
  ['acme', 'oauth2'],
];

/**
 * The gateway variables (docs/configuration.md) that point every built-in provider, plus one generic
 * RFC 6749 provider named `acme`, at these emulators with their credentials. Used by the e2e
 * harness and by `main.ts --write-env`, so several gateways can share one set of emulators.
 */
export function gatewayEnv(e: ProviderEmulators): Record<string, string> {
  const c = e.credentials;
  return {
    LATAM_TOKEN_URL: e.tokenUrl('latam'),
    LATAM_API_URL: e.apiUrl('latam'),
    LATAM_CLIENT_ID: c.latam.clientId,
    LATAM_CLIENT_SECRET: c.latam.clientSecret,
    TRANSATEL_TOKEN_URL: e.tokenUrl('transatel'),
    TRANSATEL_API_URL: e.apiUrl('transatel'),
    TRANSATEL_CLIENT_ID: c.transatel.clientId,
    TRANSATEL_CLIENT_SECRET: c.transatel.clientSecret,
    PAYME_TOKEN_URL: e.tokenUrl('payme'),
    PAYME_API_URL: e.apiUrl('payme'),
    PAYME_CLIENT_ID: c.payme.clientId,
    PAYME_CLIENT_SECRET: c.payme.clientSecret,
    PAYME_AUDIENCE: c.payme.audience,
    PAYME_USERNAME: c.payme.username,
    PAYME_PASSWORD: c.payme.password,
    PRIO_TOKEN_URL: e.tokenUrl('prio'),
    PRIO_API_URL: e.apiUrl('prio'),
    PRIO_CLIENT_ID: c.prio.clientId,
    PRIO_CLIENT_SECRET: c.prio.clientSecret,
    SABRE_TOKEN_URL: e.tokenUrl('sabre'),
    SABRE_API_URL: e.apiUrl('sabre'),
    SABRE_CLIENT_ID: c.sabre.clientId,
    SABRE_CLIENT_SECRET: c.sabre.clientSecret,
    SABRE_USERNAME: c.sabre.username,
    SABRE_PASSWORD: c.sabre.password,
    OAUTH_PROVIDERS: 'acme',
    ACME_TOKEN_URL: e.tokenUrl('oauth2'),
    ACME_API_URL: e.apiUrl('oauth2'),
    ACME_CLIENT_ID: c.oauth2.clientId,
    ACME_CLIENT_SECRET: c.oauth2.clientSecret,
  };
}

/** `NAME='value'` lines, as `.env` files (Node's `loadEnvFile`) read them: single quotes keep `%`, `+`, `/`, `=`, `:` as they are. */
export function toDotenv(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([name, value]) => {
      if (/['\n\r]/.test(value)) throw new Error(`${name}: a value with a quote or a line break cannot be written to a .env file`);
      return `${name}='${value}'\n`;
    })
    .join('');
}
