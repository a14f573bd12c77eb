import type { TokenStrategy } from '@oauth-gateway/oauth-providers';
import type { ProviderEmulators } from '@oauth-gateway/provider-emulators';
import type { ProviderTransport } from '../provider-transport.js';
import { tokenTransport } from '../provider-transport.js';
import type { RuntimeSecrets, SecretField } from '../runtime-secrets.js';

/** What every provider has, whatever its type: read by `readCommon` under the provider's prefix. */
export interface ProviderEndpoints {
  name: string;
  tokenUrl: string;
  /** Base URL requests are forwarded under, without a trailing slash. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** `<NAME>_PROXY`, `<NAME>_TLS_*`: the proxies of its two URLs and its TLS material; undefined: direct, Node's roots. */
  transport?: ProviderTransport;
}

/** A provider's configuration: the common part and its type's own settings, `kind` naming the type. */
export type TypedConfig<K extends string, S extends object = object> = ProviderEndpoints & { kind: K } & S;

/** One provider's variables, read under its own prefix (`PRIO_EU_` for `prio-eu`). */
export interface ProviderVariables {
  readonly name: string;
  /** `LATAM`, `MY_IDP` for `my-idp`. */
  readonly prefix: string;
  get(suffix: string): string | undefined;
  /** Records a problem line naming `<PREFIX>_<suffix>`. */
  problem(suffix: string, message: string): void;
}

/**
 * A provider type described once: the variables it reads beyond the common ones, how it checks
 * them, the library strategy it builds and what the sandbox points at it. Adding a type is one
 * such file, listed in `provider-registry.ts`, plus its strategy in the library.
 */
export interface ProviderDescriptor<C extends TypedConfig<string>> {
  readonly type: C['kind'];
  /** Suffixes this type needs beyond the common `TOKEN_URL`, `API_URL`, `CLIENT_ID`, `CLIENT_SECRET`. */
  readonly required: readonly string[];
  /** Every other suffix it reads (optional ones): with `required`, what no second name may read too. */
  readonly optional: readonly string[];
  /** True when these variables authenticate the client without `CLIENT_SECRET` (a private key, a client certificate). */
  readonly withoutClientSecret?: (vars: ProviderVariables) => boolean;
  /** The type's own settings; a bad value is a `vars.problem` line and undefined. */
  read(vars: ProviderVariables): Omit<C, keyof ProviderEndpoints | 'kind'> | undefined;
  /** The library strategy, registered under the provider's name; secrets come from `secrets`, read when used. */
  strategy(config: C, secrets: RuntimeSecrets): TokenStrategy;
  /** The settings that point a provider of this type at the emulators, with their credentials. */
  sandbox(emulators: ProviderEmulators): Omit<C, 'name'>;
}

/** A secret as the library takes it: read at each token request, so that a rotated `*_FILE` is used from the next one. */
export function rotating(secrets: RuntimeSecrets, provider: string, field: SecretField, startup: string): () => string {
  return () => secrets.current(provider, field) ?? startup;
}

/** The same for a secret a provider may not have (`undefined` or empty: none). */
export function rotatingIfSet(secrets: RuntimeSecrets, provider: string, field: SecretField, startup: string | undefined) {
  return startup ? rotating(secrets, provider, field, startup) : undefined;
}

/** The strategy options every type shares: the provider's name, token URL, client and client secret (read when used). */
export function clientOptions(p: ProviderEndpoints, secrets: RuntimeSecrets) {
  return {
    name: p.name,
    tokenUrl: p.tokenUrl,
    clientId: p.clientId,
    clientSecret: rotating(secrets, p.name, 'clientSecret', p.clientSecret),
    transport: tokenTransport(p.transport, () => secrets.tls(p.name)),
  };
}
