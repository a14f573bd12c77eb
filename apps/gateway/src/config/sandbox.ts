import { randomBytes } from 'node:crypto';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';
import { keyDigest } from './api-keys.config.js';
import type { GatewayConfig } from './gateway-config.js';
import { BUILT_IN_PROVIDERS, descriptorOf, type ProviderConfig } from './providers/provider-registry.js';

export interface Sandbox {
  emulators: ProviderEmulators;
  /** Generated when neither `GATEWAY_API_KEYS` nor `GATEWAY_API_KEYS_FILE` was set; printed in the banner, never logged. */
  devApiKey?: string;
  /** Providers pointed at the emulators. */
  providers: string[];
}

/**
 * `SANDBOX=true`, or `auto` with no provider configured at all outside production: in production a
 * secret that failed to mount must stop the gateway, not turn it into a healthy-looking sandbox.
 */
export function sandboxWanted(config: Pick<GatewayConfig, 'sandbox' | 'production' | 'providers'>): boolean {
  return config.sandbox === 'true' || (config.sandbox === 'auto' && !config.production && config.providers.length === 0);
}

/** Where a sandbox listens when `HOST` is unset: its generated key must not work from the network. */
export const SANDBOX_DEFAULT_HOST = '127.0.0.1';

const WHAT_TO_SET =
  "set a provider's *_TOKEN_URL, *_API_URL, *_CLIENT_ID and *_CLIENT_SECRET (see .env.example), or SANDBOX=true to answer every provider with the embedded emulators (a test setup, not real traffic)";

/**
 * The start-up problem when the gateway would have no provider at all and no sandbox either (a
 * gateway that can only answer 404); undefined otherwise. A half-configured provider has its own
 * problems, which say more.
 */
export function noProviderProblem(
  config: Pick<GatewayConfig, 'sandbox' | 'production' | 'providers'>,
  partlyConfigured: boolean,
): string | undefined {
  if (config.providers.length > 0 || partlyConfigured || sandboxWanted(config)) return undefined;
  const why = config.sandbox === 'false' ? 'SANDBOX=false' : 'NODE_ENV=production never starts the sandbox on its own';
  return `providers: none is configured and ${why}: ${WHAT_TO_SET}`;
}

/**
 * Starts the embedded emulators on a free loopback port and points every built-in provider
 * without credentials at them, with the emulators' own credentials. Configured providers
 * keep talking to their real endpoints.
 */
export async function startSandbox(config: GatewayConfig): Promise<{ config: GatewayConfig; sandbox: Sandbox }> {
  // Loaded only here: production never needs the emulators in memory.
  const { startProviderEmulators } = await import('@oauth-gateway/provider-emulators');
  const emulators = await startProviderEmulators({ host: '127.0.0.1', port: 0 });
  const configured = new Set(config.providers.map((p) => p.name));
  const added = BUILT_IN_PROVIDERS.filter((name) => !configured.has(name)).map(
    (name) => ({ ...descriptorOf(name).sandbox(emulators), name }) as ProviderConfig,
  );
  const devApiKey =
    config.apiKeys.length === 0 && config.apiKeysFile === undefined ? `dev-${randomBytes(24).toString('base64url')}` : undefined;
  return {
    config: {
      ...config,
      providers: [...config.providers, ...added],
      apiKeys: devApiKey ? [{ name: 'sandbox-dev', digest: keyDigest(devApiKey), providers: '*' }] : config.apiKeys,
    },
    sandbox: { emulators, devApiKey, providers: added.map((p) => p.name) },
  };
}

/** What sandbox mode prints at start: where the emulators are and one working `curl` per provider. */
export function sandboxBanner(sandbox: Sandbox, gatewayUrl: string): string {
  const key = sandbox.devApiKey ?? '<one of your API keys>';
  return [
    '',
    `Sandbox mode: ${sandbox.providers.join(', ') || 'no'} provider(s) answered by the embedded emulators at ${sandbox.emulators.url}`,
    sandbox.devApiKey
      ? `Development API key (generated for this run): ${sandbox.devApiKey}`
      : 'API keys: from GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE',
    'Try:',
    ...sandbox.providers.map((p) => `  curl -H 'x-api-key: ${key}' '${gatewayUrl}/${p}/hello?from=sandbox'`),
    '',
  ].join('\n');
}
