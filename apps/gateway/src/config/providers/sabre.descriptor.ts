import { sabre } from '@oauth-gateway/oauth-providers';
import { clientOptions, rotating, type ProviderDescriptor, type TypedConfig } from './provider-descriptor.js';

export type SabreConfig = TypedConfig<'sabre', { username: string; password: string }>;

/** Sabre's v3 token API (docs/providers.md): the password grant, so a user and its password are required. */
export const sabreDescriptor: ProviderDescriptor<SabreConfig> = {
  type: 'sabre',
  required: ['USERNAME', 'PASSWORD'],
  optional: [],
  read: (vars) => ({ username: vars.get('USERNAME') ?? '', password: vars.get('PASSWORD') ?? '' }),
  strategy: (p, secrets) =>
    sabre({ ...clientOptions(p, secrets), username: p.username, password: rotating(secrets, p.name, 'password', p.password) }),
  sandbox: (e) => ({ kind: 'sabre', tokenUrl: e.tokenUrl('sabre'), apiUrl: e.apiUrl('sabre'), ...e.credentials.sabre }),
};
