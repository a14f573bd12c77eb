import { CLIENT_AUTH_METHODS, oauth2, OAuthConfigurationError, SIGNING_ALGS } from '@oauth-gateway/oauth-providers';
import type { ClientAuthMethod, SigningAlg } from '@oauth-gateway/oauth-providers';
import { clientOptions, rotatingIfSet, type ProviderDescriptor, type TypedConfig } from './provider-descriptor.js';

const GRANT_TYPES = ['client_credentials', 'password'] as const;
/** Methods that prove the client without its secret: a signed assertion, or the connection's certificate. */
const SECRETLESS: readonly string[] = ['private_key_jwt', 'tls_client_auth'];

export type OAuth2Config = TypedConfig<
  'oauth2',
  {
    grantType: (typeof GRANT_TYPES)[number];
    authMethod: ClientAuthMethod;
    username?: string;
    password?: string;
    scope?: string;
    audience?: string;
    privateKey?: string;
    signingAlg?: SigningAlg;
    keyId?: string;
    assertionAudience?: string;
    resource?: string;
  }
>;

const oneOf = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);
/** `privateKey` → `PRIVATE_KEY`: the variable behind a library option. */
const suffixOf = (option: string) => option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Any RFC 6749 authorization server: the client credentials or password grant, the client authenticated as `_AUTH_METHOD` says. */
export const oauth2Descriptor: ProviderDescriptor<OAuth2Config> = {
  type: 'oauth2',
  required: [],
  optional: [
    'GRANT_TYPE',
    'AUTH_METHOD',
    'USERNAME',
    'PASSWORD',
    'SCOPE',
    'AUDIENCE',
    'PRIVATE_KEY',
    'SIGNING_ALG',
    'KEY_ID',
    'ASSERTION_AUDIENCE',
    'RESOURCE',
  ],
  withoutClientSecret: (vars) => SECRETLESS.includes(vars.get('AUTH_METHOD') ?? ''),
  read(vars) {
    const grantType = vars.get('GRANT_TYPE') ?? 'client_credentials';
    const authMethod = vars.get('AUTH_METHOD') ?? 'client_secret_basic';
    const signingAlg = vars.get('SIGNING_ALG');
    if (!oneOf(GRANT_TYPES, grantType)) vars.problem('GRANT_TYPE', `must be ${GRANT_TYPES.join(' or ')}`);
    if (!oneOf(CLIENT_AUTH_METHODS, authMethod)) vars.problem('AUTH_METHOD', `must be one of ${CLIENT_AUTH_METHODS.join(', ')}`);
    if (signingAlg !== undefined && !oneOf(SIGNING_ALGS, signingAlg))
      vars.problem('SIGNING_ALG', `must be one of ${SIGNING_ALGS.join(', ')}`);
    // Every check runs before any gives up, so that one run reports every problem.
    const noKey = authMethod === 'private_key_jwt' && vars.get('PRIVATE_KEY') === undefined;
    const noCert = authMethod === 'tls_client_auth' && vars.get('TLS_CERT') === undefined && vars.get('TLS_CERT_FILE') === undefined;
    if (noKey)
      vars.problem('PRIVATE_KEY', `missing (required by ${vars.prefix}_AUTH_METHOD=private_key_jwt; or ${vars.prefix}_PRIVATE_KEY_FILE)`);
    if (noCert) vars.problem('TLS_CERT', `missing (required by ${vars.prefix}_AUTH_METHOD=tls_client_auth, with ${vars.prefix}_TLS_KEY)`);
    const username = vars.get('USERNAME');
    const password = vars.get('PASSWORD');
    const noUser = grantType === 'password' && (username === undefined || password === undefined);
    if (grantType === 'password') {
      const required = `missing (required by ${vars.prefix}_GRANT_TYPE=password)`;
      if (username === undefined) vars.problem('USERNAME', required);
      if (password === undefined) vars.problem('PASSWORD', required);
    }
    if (!oneOf(GRANT_TYPES, grantType) || !oneOf(CLIENT_AUTH_METHODS, authMethod)) return undefined;
    if ((signingAlg !== undefined && !oneOf(SIGNING_ALGS, signingAlg)) || noKey || noCert || noUser) return undefined;
    const settings = {
      grantType,
      authMethod,
      username,
      password,
      scope: vars.get('SCOPE'),
      audience: vars.get('AUDIENCE'),
      privateKey: vars.get('PRIVATE_KEY'),
      signingAlg,
      keyId: vars.get('KEY_ID'),
      assertionAudience: vars.get('ASSERTION_AUDIENCE'),
      resource: vars.get('RESOURCE'),
    };
    // The library checks what only it knows (the key's type and curve against the algorithm): at start-up, as a problem line.
    try {
      oauth2({ name: vars.name, tokenUrl: 'https://checked.invalid/token', clientId: 'checked', clientSecret: 'checked', ...settings });
    } catch (error) {
      if (!(error instanceof OAuthConfigurationError)) throw error;
      vars.problem(suffixOf(error.option), error.message.slice(error.message.indexOf(`: ${error.option} `) + error.option.length + 3));
      return undefined;
    }
    return settings;
  },
  strategy: (p, secrets) =>
    oauth2({
      ...clientOptions(p, secrets),
      // private_key_jwt and tls_client_auth need no client secret: none is set then.
      clientSecret: rotatingIfSet(secrets, p.name, 'clientSecret', p.clientSecret),
      grantType: p.grantType,
      authMethod: p.authMethod,
      username: p.username,
      password: rotatingIfSet(secrets, p.name, 'password', p.password),
      scope: p.scope,
      audience: p.audience,
      privateKey: rotatingIfSet(secrets, p.name, 'privateKey', p.privateKey),
      signingAlg: p.signingAlg,
      keyId: p.keyId,
      assertionAudience: p.assertionAudience,
      resource: p.resource,
    }),
  sandbox: (e) => ({
    kind: 'oauth2',
    tokenUrl: e.tokenUrl('oauth2'),
    apiUrl: e.apiUrl('oauth2'),
    ...e.credentials.oauth2,
    grantType: 'client_credentials',
    authMethod: 'client_secret_basic',
  }),
};
