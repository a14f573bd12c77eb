import type { EmulatedEndpoint, EmulatorCredentials, EmulatorCredentialsOption } from './emulator.types.js';

/**
 * Sandbox credentials. The secrets deliberately hold `:`, `%`, `+`, `/` and `=` (and a literal
 * `%41`): a client that form-urlencodes them before Basic (RFC 6749 §2.3.1) is refused by the
 * five providers, which decode nothing; a client that does not is refused by the RFC one.
 */
export const DEFAULT_EMULATOR_CREDENTIALS: EmulatorCredentials = Object.freeze({
  latam: { clientId: 'latam-partner-app', clientSecret: 'lp:S3cr%41t+/ab==' },
  transatel: { clientId: 'ocs-subscription', clientSecret: 'tr:9f%2B+x/y=z=' },
  payme: {
    clientId: 'yhaPE3jtHXHMKUZBBFr9QS1x1FaXxr',
    clientSecret: 'uTCetT3d4T-1N:gX%41+O6/6C=0850',
    audience: 'https://api.dev.alignet.io',
    username: 'commerce@email.com',
    password: 'pw:12%34+56/78=',
  },
  prio: { clientId: 'prio-distributor.42', clientSecret: 'pr:io%20sec+ret/==' },
  sabre: {
    clientId: 'V1-devstudio-app',
    clientSecret: 'sb:S%41+b/r=e',
    username: 'ugt4binobrc3kyy8-DEVCENTER-EXT',
    password: 'abcd:12%34+/=',
  },
  oauth2: { clientId: 'gateway client/1', clientSecret: 'o2:%41+b/c==', username: 'svc user', password: 'pw:%41+/=' },
});

/** Every endpoint's accounts, each merged over the defaults: one unless the option lists several. */
export function mergeAccounts(overrides: EmulatorCredentialsOption = {}): { [P in EmulatedEndpoint]: Array<EmulatorCredentials[P]> } {
  const merged = {} as Record<EmulatedEndpoint, unknown[]>;
  for (const key of Object.keys(DEFAULT_EMULATOR_CREDENTIALS) as EmulatedEndpoint[]) {
    const given = overrides[key];
    const sets: object[] = Array.isArray(given) ? given : [given ?? {}];
    if (sets.length === 0) throw new Error(`credentials.${key}: an empty list accepts nobody; give at least one account`);
    merged[key] = sets.map((set) => ({ ...DEFAULT_EMULATOR_CREDENTIALS[key], ...set }));
  }
  return merged as { [P in EmulatedEndpoint]: Array<EmulatorCredentials[P]> };
}
