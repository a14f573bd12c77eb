import { describe, expect, it } from '@jest/globals';
import { parseGatewayConfig } from './parse-config.js';
import { PRIO, problems } from '../../../../test/support/gateway-config.js';
import { sandboxWanted } from './sandbox.js';

describe('sandbox rules', () => {
  describe('outside production', () => {
    it('SANDBOX=auto with no provider runs the sandbox, on the loopback unless HOST is set', () => {
      expect(sandboxWanted(parseGatewayConfig({}))).toBe(true);
      expect(parseGatewayConfig({}).host).toBe('127.0.0.1');
      expect(parseGatewayConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
      expect(parseGatewayConfig({ HOST: '::' }).host).toBe('::');
    });

    it('a configured provider means no sandbox and HOST defaults to every interface', () => {
      const config = parseGatewayConfig(PRIO);
      expect(sandboxWanted(config)).toBe(false);
      expect(config.host).toBe('0.0.0.0');
    });

    it('SANDBOX=true listens on the loopback by default even next to a configured provider', () => {
      expect(parseGatewayConfig({ ...PRIO, SANDBOX: 'true' }).host).toBe('127.0.0.1');
    });
  });

  describe('with NODE_ENV=production (regression: a secret that failed to mount looked like a healthy sandbox)', () => {
    it('SANDBOX=auto with no provider is one problem saying what to set', () => {
      expect(problems({ NODE_ENV: 'production', GATEWAY_API_KEYS: 'k' })).toEqual([
        expect.stringMatching(
          /^providers: none is configured and NODE_ENV=production never starts the sandbox on its own: set a provider's \*_TOKEN_URL, \*_API_URL, \*_CLIENT_ID and \*_CLIENT_SECRET .*SANDBOX=true/,
        ),
      ]);
    });

    it('SANDBOX=auto with a provider starts no sandbox', () => {
      const config = parseGatewayConfig({ ...PRIO, NODE_ENV: 'production', GATEWAY_API_KEYS: 'k' });
      expect(sandboxWanted(config)).toBe(false);
      expect(config.host).toBe('0.0.0.0');
    });

    it('SANDBOX=true stays possible, on the loopback unless HOST is set', () => {
      const config = parseGatewayConfig({ NODE_ENV: 'production', SANDBOX: 'true' });
      expect(sandboxWanted(config)).toBe(true);
      expect(config.host).toBe('127.0.0.1');
      expect(parseGatewayConfig({ NODE_ENV: 'production', SANDBOX: 'true', HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    });
  });

  it('SANDBOX=false with no provider at all is one problem (a gateway that could only answer 404)', () => {
    expect(problems({ SANDBOX: 'false' })).toEqual([
      expect.stringMatching(/^providers: none is configured and SANDBOX=false: set a provider's/),
    ]);
  });

  it('a half-configured provider is reported as itself, not as "no provider"', () => {
    const lines = problems({ NODE_ENV: 'production', GATEWAY_API_KEYS: 'k', PRIO_TOKEN_URL: PRIO.PRIO_TOKEN_URL });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => line.startsWith('PRIO_'))).toBe(true);
  });
});
