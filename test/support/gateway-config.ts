import { ConfigValidationError, parseGatewayConfig } from '../../apps/gateway/src/config/parse-config.js';

/** A complete LATAM provider, as its variables. */
export const LATAM = {
  LATAM_TOKEN_URL: 'https://api.latampass.com/oauth/access-token',
  LATAM_API_URL: 'https://api.latampass.com/v1/',
  LATAM_CLIENT_ID: 'latam-app',
  LATAM_CLIENT_SECRET: 'latam-secret-value',
};

/** A Prio provider but for its client secret (which a test gives inline or as a file). */
export const PRIO_WITHOUT_SECRET = {
  PRIO_TOKEN_URL: 'https://distributor-api.prioticket.com/v3.8/distributor/oauth2/token',
  PRIO_API_URL: 'https://distributor-api.prioticket.com/v3.8/distributor',
  PRIO_CLIENT_ID: 'prio-app',
};

/** A complete Prio provider, as its variables. */
export const PRIO = { ...PRIO_WITHOUT_SECRET, PRIO_CLIENT_SECRET: 'prio-secret-value' };

/** The problem lines of an invalid configuration; throws if the configuration is accepted. */
export function problems(env: Parameters<typeof parseGatewayConfig>[0]): string[] {
  try {
    parseGatewayConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}
