import { describe, expect, it } from '@jest/globals';
import type { TokenStrategy } from '@oauth-gateway/oauth-providers';
import { keyDigest } from './api-keys.config.js';
import { oauthOptions } from './oauth-options.js';
import { parseGatewayConfig } from './parse-config.js';
import { startupSecrets } from './runtime-secrets.js';
import { PRIO, problems } from '../../../../test/support/gateway-config.js';

/** The common variables of a provider named by `prefix`. */
const endpoints = (prefix: string, host: string) => ({
  [`${prefix}_TOKEN_URL`]: `https://${host}/oauth2/token`,
  [`${prefix}_API_URL`]: `https://${host}/api/`,
  [`${prefix}_CLIENT_ID`]: `${host}-client`,
  [`${prefix}_CLIENT_SECRET`]: `${host}-secret`,
});

const twoPrios = {
  OAUTH_PROVIDERS: 'prio-eu,prio-us',
  PRIO_EU_TYPE: 'prio',
  ...endpoints('PRIO_EU', 'eu.prio.example'),
  PRIO_EU_SCOPE: 'booking',
  PRIO_US_TYPE: 'prio',
  ...endpoints('PRIO_US', 'us.prio.example'),
};

/** The strategies the gateway builds (instances, never classes) and a filter by their class, which the library no longer exports. */
const built = (config: Parameters<typeof oauthOptions>[0], secrets?: Parameters<typeof oauthOptions>[1]) =>
  oauthOptions(config, secrets).providers as TokenStrategy[];
const ofClass = (name: string) => (strategy: TokenStrategy) => strategy.constructor.name === name;

describe('<NAME>_TYPE: several accounts of one partner', () => {
  it('reads a listed name of a built-in type under its own prefix, beside the built-in of that type', () => {
    const config = parseGatewayConfig({ ...PRIO, ...twoPrios });
    expect(config.providers).toEqual([
      expect.objectContaining({ name: 'prio', kind: 'prio', clientId: 'prio-app' }),
      {
        name: 'prio-eu',
        kind: 'prio',
        tokenUrl: 'https://eu.prio.example/oauth2/token',
        apiUrl: 'https://eu.prio.example/api',
        clientId: 'eu.prio.example-client',
        clientSecret: 'eu.prio.example-secret',
        scope: 'booking',
      },
      expect.objectContaining({ name: 'prio-us', kind: 'prio', clientId: 'us.prio.example-client', scope: undefined }),
    ]);
    expect([...config.knownProviders]).toEqual(expect.arrayContaining(['prio', 'prio-eu', 'prio-us']));
  });

  it('builds each name its own strategy of its type, registered under the name, with a token identity of its own', () => {
    const providers = built(parseGatewayConfig({ ...PRIO, ...twoPrios })).filter(ofClass('PrioStrategy'));
    expect(providers.map((s) => s.name)).toEqual(['prio', 'prio-eu', 'prio-us']);
    expect(new Set(providers.map((s) => s.identity)).size).toBe(3);
  });

  it('reads every type under a listed name, with its own variables and defaults', () => {
    const config = parseGatewayConfig({
      OAUTH_PROVIDERS: 'lp-qa,tr-b,pm-b,sb-emea,idp,idp-b',
      LP_QA_TYPE: 'latam',
      ...endpoints('LP_QA', 'lp'),
      LP_QA_TEST_ENV: 'true',
      TR_B_TYPE: 'transatel',
      ...endpoints('TR_B', 'tr'),
      TR_B_SCOPE: 'ocs',
      PM_B_TYPE: 'payme',
      ...endpoints('PM_B', 'pm'),
      PM_B_AUDIENCE: 'https://api.dev.alignet.io',
      PM_B_USERNAME: 'u',
      PM_B_PASSWORD: 'p',
      PM_B_API_VERSION: '1.0',
      SB_EMEA_TYPE: 'sabre',
      ...endpoints('SB_EMEA', 'sb'),
      SB_EMEA_USERNAME: 'pcc-emea',
      SB_EMEA_PASSWORD: 'pw',
      ...endpoints('IDP', 'idp'),
      IDP_B_TYPE: 'oauth2',
      ...endpoints('IDP_B', 'idp-b'),
      IDP_B_AUTH_METHOD: 'client_secret_post',
    });
    expect(config.providers).toEqual([
      expect.objectContaining({ name: 'lp-qa', kind: 'latam', testEnvironment: true }),
      expect.objectContaining({ name: 'tr-b', kind: 'transatel', scope: 'ocs' }),
      expect.objectContaining({ name: 'pm-b', kind: 'payme', audience: 'https://api.dev.alignet.io', username: 'u', apiVersion: '1.0' }),
      expect.objectContaining({ name: 'sb-emea', kind: 'sabre', username: 'pcc-emea', password: 'pw' }),
      expect.objectContaining({ name: 'idp', kind: 'oauth2', grantType: 'client_credentials', authMethod: 'client_secret_basic' }),
      expect.objectContaining({ name: 'idp-b', kind: 'oauth2', authMethod: 'client_secret_post' }),
    ]);
    const strategies = built(config);
    expect(strategies.filter(ofClass('PaymeStrategy')).map((s) => s.name)).toEqual(['pm-b']);
    expect(strategies.filter(ofClass('SabreStrategy')).map((s) => s.name)).toEqual(['sb-emea']);
  });

  it("checks a listed name's type variables under its prefix, with the type's own lines", () => {
    expect(problems({ OAUTH_PROVIDERS: 'sb-apac', SB_APAC_TYPE: 'sabre', ...endpoints('SB_APAC', 'sb') })).toEqual([
      'SB_APAC_USERNAME: missing (sb-apac is listed in OAUTH_PROVIDERS; it needs SB_APAC_TOKEN_URL, SB_APAC_API_URL, SB_APAC_CLIENT_ID, SB_APAC_CLIENT_SECRET, SB_APAC_USERNAME, SB_APAC_PASSWORD)',
      expect.stringMatching(/^SB_APAC_PASSWORD: missing \(sb-apac is listed in OAUTH_PROVIDERS/),
    ]);
    expect(problems({ OAUTH_PROVIDERS: 'lp-qa', LP_QA_TYPE: 'latam', ...endpoints('LP_QA', 'lp'), LP_QA_TEST_ENV: 'yes' })).toEqual([
      'LP_QA_TEST_ENV: must be true or false',
    ]);
    const payme = { OAUTH_PROVIDERS: 'pm-b', PM_B_TYPE: 'payme', ...endpoints('PM_B', 'pm'), PM_B_AUDIENCE: 'a', PM_B_USERNAME: 'u' };
    expect(problems(payme)).toEqual(['PM_B_PASSWORD: missing (PM_B_USERNAME and PM_B_PASSWORD go together)']);
    expect(problems({ OAUTH_PROVIDERS: 'pm-c', PM_C_TYPE: 'payme', ...endpoints('PM_C', 'pm') })).toEqual([
      expect.stringMatching(/^PM_C_AUDIENCE: missing \(pm-c is listed in OAUTH_PROVIDERS/),
    ]);
  });

  it('refuses an unknown type in one line, and reads nothing else of that name', () => {
    for (const type of ['PRIO', 'generic', 'OAuth2', 'constructor', '__proto__', 'toString']) {
      expect(problems({ OAUTH_PROVIDERS: 'acct', ACCT_TYPE: type })).toEqual([
        'ACCT_TYPE: must be one of latam, transatel, payme, prio, sabre, oauth2',
      ]);
    }
  });

  it('keeps http, https and no (the proxy variables) and the gateway routes out of provider names', () => {
    expect(problems({ OAUTH_PROVIDERS: 'http,https,no,health,metrics,tokens' })).toEqual(
      ['http', 'https', 'no', 'health', 'metrics', 'tokens'].map((n) => `OAUTH_PROVIDERS: "${n}" clashes with a built-in or reserved name`),
    );
  });

  it('refuses two names one of whose variables is the other one’s', () => {
    const env = { OAUTH_PROVIDERS: 'x,x-grant', ...endpoints('X', 'x'), ...endpoints('X_GRANT', 'xg') };
    expect(problems(env)).toEqual(['OAUTH_PROVIDERS: "x" and "x-grant" would both read X_GRANT_TYPE']);
  });

  it('lets keys name one account only, as any other provider', () => {
    const { apiKeys } = parseGatewayConfig({ ...twoPrios, GATEWAY_API_KEYS: 'k-eu:prio-eu,k-both:prio-eu|prio-us' });
    expect(apiKeys).toEqual([
      { name: 'env-1', digest: keyDigest('k-eu'), providers: new Set(['prio-eu']) },
      { name: 'env-2', digest: keyDigest('k-both'), providers: new Set(['prio-eu', 'prio-us']) },
    ]);
  });

  it('keeps the built-in names exactly as they were: PRIO_TYPE is not read', () => {
    expect(parseGatewayConfig({ ...PRIO, PRIO_TYPE: 'sabre' }).providers).toEqual([
      expect.objectContaining({ name: 'prio', kind: 'prio' }),
    ]);
  });
});

describe('RuntimeSecrets: where strategies take their secrets from', () => {
  it('is asked for every secret of every type, by provider name, when a token request reads it (not when the strategy is built)', async () => {
    const config = parseGatewayConfig({
      ...PRIO,
      OAUTH_PROVIDERS: 'sb-apac,idp',
      SB_APAC_TYPE: 'sabre',
      ...endpoints('SB_APAC', 'sb'),
      SB_APAC_USERNAME: 'pcc-apac',
      SB_APAC_PASSWORD: 'pw',
      ...endpoints('IDP', 'idp'),
    });
    const asked: string[] = [];
    const secrets = {
      current: (provider: string, field: string) => {
        asked.push(`${provider}.${field}`);
        return `rotated-${provider}-${field}`;
      },
      tls: () => undefined,
    };
    const strategies = built(config, secrets);
    expect(strategies).toHaveLength(3);
    expect(asked).toEqual([]);
    // What a token request reads: every credential, current at that moment.
    for (const strategy of strategies) await strategy.credentialsFingerprint?.();
    expect(asked.sort()).toEqual(['idp.clientSecret', 'prio.clientSecret', 'sb-apac.clientSecret', 'sb-apac.password']);
  });

  it('starts with the values read at start-up', () => {
    const config = parseGatewayConfig({ ...PRIO, ...twoPrios });
    const secrets = startupSecrets(config.providers);
    expect(['prio', 'prio-eu', 'prio-us'].map((name) => secrets.current(name, 'clientSecret'))).toEqual([
      'prio-secret-value',
      'eu.prio.example-secret',
      'us.prio.example-secret',
    ]);
    expect(secrets.current('prio', 'password')).toBeUndefined();
    expect(secrets.current('sabre', 'clientSecret')).toBeUndefined();
  });
});
