import { readTransport } from './provider-transport.js';
import { COMMON_OPTIONAL, COMMON_REQUIRED, envPrefix, providerVariables, readCommon } from './providers/common.variables.js';
import {
  BUILT_IN_PROVIDERS,
  descriptorOf,
  isProviderType,
  PROVIDER_TYPES,
  RESERVED_NAMES,
  type ProviderConfig,
  type ProviderType,
} from './providers/provider-registry.js';

const PROVIDER_NAME = /^[a-z][a-z0-9-]*$/;
const STAND_IN_URL = 'https://provider.invalid/';
const TYPE_NAMES = Object.keys(PROVIDER_TYPES).join(', ');

/**
 * Every provider the environment enables, built-in and from `OAUTH_PROVIDERS`, and every name a
 * caller key may refer to; `partlyConfigured` says some provider variables were set but wrong or incomplete.
 */
export function readProviders(env: Record<string, string>, problems: string[]) {
  const beforeProviders = problems.length;
  const listed = parseListedNames(env.OAUTH_PROVIDERS, problems);
  const knownProviders = new Set<string>([...BUILT_IN_PROVIDERS, ...listed]);
  const typed = [
    ...BUILT_IN_PROVIDERS.map((name) => ({ name, type: name, listed: false })),
    ...listed.flatMap((name) => {
      const type = listedType(name, env, problems);
      return type ? [{ name, type, listed: true }] : [];
    }),
  ];
  sharedVariables(typed, problems);
  const providers = typed.flatMap(({ name, type, listed }) => readProvider(name, type, listed, env, problems));
  // A listed name whose `_TYPE` is wrong still owns its common variables: the `_TYPE` line is the one to fix.
  const named: NamedProvider[] = [
    ...typed,
    ...listed.filter((n) => !typed.some((t) => t.name === n)).map((name) => ({ name, type: 'oauth2' as const, listed: true })),
  ];
  return { providers, knownProviders, named, partlyConfigured: problems.length > beforeProviders };
}

/** `<NAME>_TYPE`: `oauth2` unless it names another type. */
function listedType(name: string, env: Record<string, string>, problems: string[]): ProviderType | undefined {
  const type = env[`${envPrefix(name)}_TYPE`] ?? 'oauth2';
  if (isProviderType(type)) return type;
  problems.push(`${envPrefix(name)}_TYPE: must be one of ${TYPE_NAMES}`);
  return undefined;
}

/**
 * A built-in is enabled once any of its required variables is set (then all of them must be); a
 * listed name always is. The common variables and the type's own are checked alike.
 */
function readProvider(name: string, type: ProviderType, listed: boolean, env: Record<string, string>, problems: string[]) {
  const descriptor = descriptorOf(type);
  const vars = providerVariables(name, env, problems);
  const secretless = descriptor.withoutClientSecret?.(vars) === true;
  const required = [...COMMON_REQUIRED.filter((s) => !(secretless && s === 'CLIENT_SECRET')), ...descriptor.required];
  if (!listed && required.every((suffix) => vars.get(suffix) === undefined)) return [];
  const why = listed ? `${name} is listed in OAUTH_PROVIDERS` : `${name} is partly configured`;
  const endpoints = readCommon(vars, required, why);
  const settings = descriptor.read(vars);
  // Read even when the endpoints are wrong, so that its problems come in the same run (the stand-in URL only picks a proxy).
  const transport = readTransport(vars.prefix, env, problems, endpoints ?? { tokenUrl: STAND_IN_URL, apiUrl: STAND_IN_URL });
  return endpoints && settings ? [{ ...endpoints, transport, ...settings, kind: type } as ProviderConfig] : [];
}

/** A provider name as configured: its type and whether `OAUTH_PROVIDERS` lists it. */
export interface NamedProvider {
  name: string;
  type: ProviderType;
  listed: boolean;
}

/** Every suffix a provider of `type` reads, `_TYPE` included for listed names. */
export const suffixesOf = (type: ProviderType, listed: boolean) => {
  const descriptor = descriptorOf(type);
  return [...COMMON_REQUIRED, ...COMMON_OPTIONAL, ...descriptor.required, ...descriptor.optional, ...(listed ? ['TYPE'] : [])];
};

/** Two names whose variables overlap (`x` reads `X_GRANT_TYPE`, which is `x-grant`'s `_TYPE`) would configure each other. */
function sharedVariables(typed: NamedProvider[], problems: string[]) {
  const readers = new Map<string, string>();
  for (const { name, type, listed } of typed) {
    for (const suffix of suffixesOf(type, listed)) {
      const variable = `${envPrefix(name)}_${suffix}`;
      const other = readers.get(variable);
      if (other !== undefined) problems.push(`OAUTH_PROVIDERS: "${other}" and "${name}" would both read ${variable}`);
      readers.set(variable, name);
    }
  }
}

function parseListedNames(value: string | undefined, problems: string[]): string[] {
  if (value === undefined) return [];
  const names: string[] = [];
  for (const name of value.split(',').map((n) => n.trim())) {
    if (!PROVIDER_NAME.test(name)) {
      problems.push(`OAUTH_PROVIDERS: "${name.slice(0, 40)}" is not a valid name (lowercase [a-z][a-z0-9-]*)`);
    } else if ((BUILT_IN_PROVIDERS as readonly string[]).includes(name) || RESERVED_NAMES.includes(name)) {
      problems.push(`OAUTH_PROVIDERS: "${name}" clashes with a built-in or reserved name`);
    } else if (names.includes(name)) {
      problems.push(`OAUTH_PROVIDERS: "${name}" is listed twice`);
    } else {
      names.push(name);
    }
  }
  return names;
}
