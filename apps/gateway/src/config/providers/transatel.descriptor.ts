import { transatel } from '@oauth-gateway/oauth-providers';
import { clientOptions, type ProviderDescriptor, type TypedConfig } from './provider-descriptor.js';

export type TransatelConfig = TypedConfig<'transatel', { scope?: string }>;

/** Transatel (docs/providers.md): client credentials, an optional scope. */
export const transatelDescriptor: ProviderDescriptor<TransatelConfig> = {
  type: 'transatel',
  required: [],
  optional: ['SCOPE'],
  read: (vars) => ({ scope: vars.get('SCOPE') }),
  strategy: (p, secrets) => transatel({ ...clientOptions(p, secrets), scope: p.scope }),
  sandbox: (e) => ({ kind: 'transatel', tokenUrl: e.tokenUrl('transatel'), apiUrl: e.apiUrl('transatel'), ...e.credentials.transatel }),
};
