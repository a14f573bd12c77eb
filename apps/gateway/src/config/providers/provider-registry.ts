import { latamDescriptor } from './latam.descriptor.js';
import { oauth2Descriptor } from './oauth2.descriptor.js';
import { paymeDescriptor } from './payme.descriptor.js';
import { prioDescriptor } from './prio.descriptor.js';
import type { ProviderDescriptor, TypedConfig } from './provider-descriptor.js';
import { sabreDescriptor } from './sabre.descriptor.js';
import { transatelDescriptor } from './transatel.descriptor.js';

/** Every provider type the gateway knows, by the name `<NAME>_TYPE` gives it. */
export const PROVIDER_TYPES = {
  latam: latamDescriptor,
  transatel: transatelDescriptor,
  payme: paymeDescriptor,
  prio: prioDescriptor,
  sabre: sabreDescriptor,
  oauth2: oauth2Descriptor,
} as const;

export type ProviderType = keyof typeof PROVIDER_TYPES;

/** One configured provider, of any type (`kind`). */
export type ProviderConfig = {
  [K in ProviderType]: (typeof PROVIDER_TYPES)[K] extends ProviderDescriptor<infer C> ? C : never;
}[ProviderType];

/** The types that are also provider names of their own, read under their own prefix (`PRIO_*`) without `OAUTH_PROVIDERS`. */
export const BUILT_IN_PROVIDERS = ['latam', 'transatel', 'payme', 'prio', 'sabre'] as const satisfies readonly ProviderType[];
export type BuiltInProvider = (typeof BUILT_IN_PROVIDERS)[number];

/**
 * Names no provider may take: the gateway's own routes, and `http`, `https` and `no`, whose
 * prefixes would read the standard `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` variables.
 */
export const RESERVED_NAMES: readonly string[] = ['health', 'metrics', 'tokens', 'http', 'https', 'no'];

export const isProviderType = (type: string): type is ProviderType => Object.hasOwn(PROVIDER_TYPES, type);

/** A type's descriptor, as one that takes any provider configuration (each is only handed its own). */
export const descriptorOf = (type: ProviderType) => PROVIDER_TYPES[type] as unknown as ProviderDescriptor<TypedConfig<string>>;
