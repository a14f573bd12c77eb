import { prio } from '@oauth-gateway/oauth-providers';
import { clientOptions, type ProviderDescriptor, type TypedConfig } from './provider-descriptor.js';

export type PrioConfig = TypedConfig<'prio', { scope?: string }>;

/** Prio's distributor API (docs/providers.md): client credentials, an optional scope. */
export const prioDescriptor: ProviderDescriptor<PrioConfig> = {
  type: 'prio',
  required: [],
  optional: ['SCOPE'],
  read: (vars) => ({ scope: vars.get('SCOPE') }),
  strategy: (p, secrets) => prio({ ...clientOptions(p, secrets), scope: p.scope }),
  sandbox: (e) => ({ kind: 'prio', tokenUrl: e.tokenUrl('prio'), apiUrl: e.apiUrl('prio'), ...e.credentials.prio }),
};
