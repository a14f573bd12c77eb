import type { ProviderEndpoints, ProviderVariables } from './provider-descriptor.js';

/** Read for every provider, whatever its type; the type's own required suffixes come after them. */
export const COMMON_REQUIRED = ['TOKEN_URL', 'API_URL', 'CLIENT_ID', 'CLIENT_SECRET'] as const;

/** Optional variables every provider reads, whatever its type (the connection's settings belong here). */
export const COMMON_OPTIONAL: readonly string[] = ['PROXY', 'TLS_CA', 'TLS_CERT', 'TLS_KEY', 'TLS_KEY_PASSPHRASE'];

/** Suffixes whose value may instead come from the file `<NAME>_<SUFFIX>_FILE` names: the secrets and the TLS material. */
export const FILE_SUFFIXES: readonly string[] = [
  'CLIENT_SECRET',
  'PASSWORD',
  'PRIVATE_KEY',
  ...COMMON_OPTIONAL.filter((s) => s.startsWith('TLS_')),
];

/** `LATAM`, `MY_IDP` for `my-idp`. */
export const envPrefix = (provider: string) => provider.toUpperCase().replace(/-/g, '_');

/** A provider's variables over the (normalised) environment, its problems going to `problems`. */
export function providerVariables(name: string, env: Record<string, string>, problems: string[]): ProviderVariables {
  const prefix = envPrefix(name);
  return {
    name,
    prefix,
    get: (suffix) => env[`${prefix}_${suffix}`],
    problem: (suffix, message) => problems.push(`${prefix}_${suffix}: ${message}`),
  };
}

/**
 * The variables every provider has: one problem per missing required one (`why` says why it is
 * needed), then the URLs' checks. Undefined when anything is missing or wrong.
 */
export function readCommon(vars: ProviderVariables, required: readonly string[], why: string): ProviderEndpoints | undefined {
  const missing = required.filter((suffix) => vars.get(suffix) === undefined);
  for (const suffix of missing) {
    vars.problem(suffix, `missing (${why}; it needs ${required.map((s) => `${vars.prefix}_${s}`).join(', ')})`);
  }
  // The URLs that are set are checked even when others are missing: every problem in one run.
  const urlOk = (suffix: 'TOKEN_URL' | 'API_URL') => {
    const value = vars.get(suffix);
    const problem = value === undefined ? undefined : httpUrlProblem(value, suffix === 'API_URL');
    if (problem) vars.problem(suffix, problem);
    return value !== undefined && problem === undefined;
  };
  const urlsOk = [urlOk('TOKEN_URL'), urlOk('API_URL')].every(Boolean);
  if (missing.length > 0 || !urlsOk) return undefined;
  return {
    name: vars.name,
    tokenUrl: vars.get('TOKEN_URL') ?? '',
    apiUrl: (vars.get('API_URL') ?? '').replace(/\/+$/, ''),
    clientId: vars.get('CLIENT_ID') ?? '',
    clientSecret: vars.get('CLIENT_SECRET') ?? '',
  };
}

function httpUrlProblem(value: string, isBase: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http(s) URL';
  if (url.username || url.password) return 'must not carry credentials (use the *_CLIENT_ID / *_CLIENT_SECRET variables)';
  if (isBase && (url.search || url.hash || value.includes('?') || value.includes('#'))) return 'must not have a query or fragment';
  return undefined;
}
