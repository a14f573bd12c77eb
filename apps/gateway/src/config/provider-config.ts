import { readTransport } from './provider-transport.js';
import { BUILT_IN_PROVIDERS, RESERVED_NAMES, type BuiltInProvider, type ProviderConfig } from './gateway-config.js';

const PROVIDER_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Every provider the environment enables, built-in and generic, and every name a caller key may
 * refer to; `partlyConfigured` says some provider variables were set but wrong or incomplete.
 */
export function readProviders(env: Record<string, string>, problems: string[]) {
  const beforeProviders = problems.length;
  const generic = parseGenericNames(env.OAUTH_PROVIDERS, problems);
  const knownProviders = new Set<string>([...BUILT_IN_PROVIDERS, ...generic]);
  const providers = [
    ...BUILT_IN_PROVIDERS.flatMap((name) => readBuiltIn(name, env, problems)),
    ...generic.flatMap((name) => readGeneric(name, env, problems)),
  ];
  return { providers, knownProviders, partlyConfigured: problems.length > beforeProviders };
}

/** `LATAM`, `MY_IDP` for `my-idp`. */
const envPrefix = (provider: string) => provider.toUpperCase().replace(/-/g, '_');

/** What each built-in needs beyond the common variables; the rest of each is optional. */
const BUILT_IN_REQUIRED: Record<BuiltInProvider, string[]> = {
  latam: [],
  transatel: [],
  payme: ['AUDIENCE'],
  prio: [],
  sabre: ['USERNAME', 'PASSWORD'],
};
const COMMON_REQUIRED = ['TOKEN_URL', 'API_URL', 'CLIENT_ID', 'CLIENT_SECRET'];

/**
 * Reads a provider's variables: none of the required ones set means "not enabled" (undefined);
 * some but not all is a problem per missing variable.
 */
function readRequired(name: string, env: Record<string, string>, suffixes: string[], problems: string[], optionalIfNone: boolean) {
  const prefix = envPrefix(name);
  const missing = suffixes.filter((s) => env[`${prefix}_${s}`] === undefined);
  if (optionalIfNone && missing.length === suffixes.length) return undefined;
  if (missing.length > 0) {
    const why = optionalIfNone ? `${name} is partly configured` : `${name} is listed in OAUTH_PROVIDERS`;
    for (const s of missing)
      problems.push(`${prefix}_${s}: missing (${why}; it needs ${suffixes.map((x) => `${prefix}_${x}`).join(', ')})`);
    return undefined;
  }
  const get = (suffix: string) => env[`${prefix}_${suffix}`];
  const urlProblem = (suffix: 'TOKEN_URL' | 'API_URL') => {
    const problem = httpUrlProblem(get(suffix), suffix === 'API_URL');
    if (problem) problems.push(`${prefix}_${suffix}: ${problem}`);
    return problem !== undefined;
  };
  const bad = [urlProblem('TOKEN_URL'), urlProblem('API_URL')].some(Boolean);
  if (bad) return undefined;
  const urls = { tokenUrl: get('TOKEN_URL'), apiUrl: get('API_URL').replace(/\/+$/, '') };
  return {
    get,
    endpoints: {
      name,
      ...urls,
      clientId: get('CLIENT_ID'),
      clientSecret: get('CLIENT_SECRET'),
      transport: readTransport(prefix, env, problems, urls),
    },
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

function readBuiltIn(name: BuiltInProvider, env: Record<string, string>, problems: string[]): ProviderConfig[] {
  const prefix = envPrefix(name);
  const read = readRequired(name, env, [...COMMON_REQUIRED, ...BUILT_IN_REQUIRED[name]], problems, true);
  if (!read) return [];
  const { get, endpoints } = read;
  switch (name) {
    case 'latam': {
      const testEnv = get('TEST_ENV');
      if (testEnv !== undefined && testEnv !== 'true' && testEnv !== 'false') {
        problems.push('LATAM_TEST_ENV: must be true or false');
      }
      return [{ ...endpoints, kind: 'latam', testEnvironment: testEnv === 'true' }];
    }
    case 'transatel':
      return [{ ...endpoints, kind: 'transatel', scope: get('SCOPE') }];
    case 'prio':
      return [{ ...endpoints, kind: 'prio', scope: get('SCOPE') }];
    case 'sabre':
      return [{ ...endpoints, kind: 'sabre', username: get('USERNAME'), password: get('PASSWORD') }];
    case 'payme': {
      const username = get('USERNAME');
      const password = get('PASSWORD');
      // Both: the password grant; neither: client_credentials (Pay-me's token API takes either).
      if ((username === undefined) !== (password === undefined)) {
        problems.push(
          `${prefix}_${username === undefined ? 'USERNAME' : 'PASSWORD'}: missing (PAYME_USERNAME and PAYME_PASSWORD go together)`,
        );
      }
      return [
        { ...endpoints, kind: 'payme', audience: get('AUDIENCE'), username, password, scope: get('SCOPE'), apiVersion: get('API_VERSION') },
      ];
    }
  }
}

function parseGenericNames(value: string | undefined, problems: string[]): string[] {
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
  const prefixes = new Map<string, string>();
  for (const name of names) {
    const clash = prefixes.get(envPrefix(name));
    if (clash) problems.push(`OAUTH_PROVIDERS: "${clash}" and "${name}" would read the same ${envPrefix(name)}_* variables`);
    prefixes.set(envPrefix(name), name);
  }
  return names;
}

function readGeneric(name: string, env: Record<string, string>, problems: string[]): ProviderConfig[] {
  const prefix = envPrefix(name);
  const read = readRequired(name, env, COMMON_REQUIRED, problems, false);
  const grantType = env[`${prefix}_GRANT_TYPE`] ?? 'client_credentials';
  const authMethod = env[`${prefix}_AUTH_METHOD`] ?? 'client_secret_basic';
  if (grantType !== 'client_credentials' && grantType !== 'password') {
    problems.push(`${prefix}_GRANT_TYPE: must be client_credentials or password`);
    return [];
  }
  if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post') {
    problems.push(`${prefix}_AUTH_METHOD: must be client_secret_basic or client_secret_post`);
    return [];
  }
  const username = env[`${prefix}_USERNAME`];
  const password = env[`${prefix}_PASSWORD`];
  if (grantType === 'password') {
    if (username === undefined) problems.push(`${prefix}_USERNAME: missing (required by ${prefix}_GRANT_TYPE=password)`);
    if (password === undefined) problems.push(`${prefix}_PASSWORD: missing (required by ${prefix}_GRANT_TYPE=password)`);
  }
  if (!read) return [];
  return [
    {
      ...read.endpoints,
      kind: 'oauth2',
      grantType,
      authMethod,
      username,
      password,
      scope: env[`${prefix}_SCOPE`],
      audience: env[`${prefix}_AUDIENCE`],
    },
  ];
}
