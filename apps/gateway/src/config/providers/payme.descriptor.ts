import { payme } from '@oauth-gateway/oauth-providers';
import { clientOptions, rotatingIfSet, type ProviderDescriptor, type TypedConfig } from './provider-descriptor.js';

export type PaymeConfig = TypedConfig<
  'payme',
  { audience: string; username?: string; password?: string; scope?: string; apiVersion?: string }
>;

/** Pay-me (docs/providers.md): an audience always; a user and password together, or neither. */
export const paymeDescriptor: ProviderDescriptor<PaymeConfig> = {
  type: 'payme',
  required: ['AUDIENCE'],
  optional: ['USERNAME', 'PASSWORD', 'SCOPE', 'API_VERSION'],
  read(vars) {
    const username = vars.get('USERNAME');
    const password = vars.get('PASSWORD');
    // Both: the password grant; neither: client_credentials (Pay-me's token API takes either).
    if ((username === undefined) !== (password === undefined)) {
      vars.problem(
        username === undefined ? 'USERNAME' : 'PASSWORD',
        `missing (${vars.prefix}_USERNAME and ${vars.prefix}_PASSWORD go together)`,
      );
      return undefined;
    }
    return { audience: vars.get('AUDIENCE') ?? '', username, password, scope: vars.get('SCOPE'), apiVersion: vars.get('API_VERSION') };
  },
  strategy: (p, secrets) =>
    payme({
      ...clientOptions(p, secrets),
      audience: p.audience,
      username: p.username,
      password: rotatingIfSet(secrets, p.name, 'password', p.password),
      scope: p.scope,
      apiVersion: p.apiVersion,
    }),
  sandbox: (e) => ({ kind: 'payme', tokenUrl: e.tokenUrl('payme'), apiUrl: e.apiUrl('payme'), ...e.credentials.payme }),
};
