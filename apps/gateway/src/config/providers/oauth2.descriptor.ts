import { oauth2 } from '@oauth-gateway/oauth-providers';
import { clientOptions, type ProviderDescriptor, type TypedConfig } from './provider-descriptor.js';

const GRANT_TYPES = ['client_credentials', 'password'] as const;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

export type OAuth2Config = TypedConfig<
  'oauth2',
  {
    grantType: (typeof GRANT_TYPES)[number];
    authMethod: (typeof AUTH_METHODS)[number];
    username?: string;
    password?: string;
    scope?: string;
    audience?: string;
  }
>;

const oneOf = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

/** Any RFC 6749 authorization server: the client credentials or password grant, the client authenticated as `_AUTH_METHOD` says. */
export const oauth2Descriptor: ProviderDescriptor<OAuth2Config> = {
  type: 'oauth2',
  required: [],
  optional: ['GRANT_TYPE', 'AUTH_METHOD', 'USERNAME', 'PASSWORD', 'SCOPE', 'AUDIENCE'],
  read(vars) {
    const grantType = vars.get('GRANT_TYPE') ?? 'client_credentials';
    const authMethod = vars.get('AUTH_METHOD') ?? 'client_secret_basic';
    if (!oneOf(GRANT_TYPES, grantType)) {
      vars.problem('GRANT_TYPE', `must be ${GRANT_TYPES.join(' or ')}`);
      return undefined;
    }
    if (!oneOf(AUTH_METHODS, authMethod)) {
      vars.problem('AUTH_METHOD', `must be ${AUTH_METHODS.join(' or ')}`);
      return undefined;
    }
    const username = vars.get('USERNAME');
    const password = vars.get('PASSWORD');
    if (grantType === 'password') {
      const required = `missing (required by ${vars.prefix}_GRANT_TYPE=password)`;
      if (username === undefined) vars.problem('USERNAME', required);
      if (password === undefined) vars.problem('PASSWORD', required);
      if (username === undefined || password === undefined) return undefined;
    }
    return { grantType, authMethod, username, password, scope: vars.get('SCOPE'), audience: vars.get('AUDIENCE') };
  },
  strategy: (p, secrets) =>
    oauth2({
      ...clientOptions(p, secrets),
      grantType: p.grantType,
      authMethod: p.authMethod,
      username: p.username,
      password: secrets.current(p.name, 'password') ?? p.password,
      scope: p.scope,
      audience: p.audience,
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
