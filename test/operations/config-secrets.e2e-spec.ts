import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ModulesContainer } from '@nestjs/core';
import { ConfigService } from '@nestjs/config';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../apps/gateway/src/config/gateway-config.js';
import { RuntimeSecrets } from '../../apps/gateway/src/config/runtime-secrets.js';
import { startHarness, type Harness } from '../support/gateway-harness.js';

/**
 * Nest's `ConfigService` is injectable by any provider: the gateway's configuration, its client
 * secrets and its encryption key must not be reachable through it.
 */
describe('the configuration as a plain value, not in ConfigService', () => {
  let h: Harness;
  const encryptionKey = randomBytes(32).toString('hex');

  beforeAll(async () => {
    h = await startHarness({ TOKEN_ENCRYPTION_KEY: encryptionKey });
  });
  afterAll(() => h?.close());

  it('provides no ConfigService, in any module', () => {
    expect(() => h.gateway.app.get(ConfigService, { strict: false })).toThrow();
    const instances = [...h.gateway.app.get(ModulesContainer).values()].flatMap((m) => [...m.providers.values()].map((w) => w.instance));
    const configServices = instances.filter((instance) => instance instanceof ConfigService);
    expect(configServices).toEqual([]);
    // Whatever a ConfigService could hold, none of this run's secrets is among the values Nest holds as configuration.
    const held = JSON.stringify(configServices);
    for (const secret of [...h.secrets(), encryptionKey]) expect(held).not.toContain(secret);
  });

  it('serves the parsed configuration under GATEWAY_CONFIG and the provider secrets through RuntimeSecrets', () => {
    const config = h.gateway.app.get<GatewayConfig>(GATEWAY_CONFIG, { strict: false });
    expect(config).toBe(h.gateway.config);
    const secrets = h.gateway.app.get<RuntimeSecrets>(RuntimeSecrets, { strict: false });
    expect(secrets.current('prio', 'clientSecret')).toBe(h.emulators.credentials.prio.clientSecret);
    expect(secrets.current('sabre', 'password')).toBe(h.emulators.credentials.sabre.password);
    expect(secrets.current('nope', 'clientSecret')).toBeUndefined();
  });
});
