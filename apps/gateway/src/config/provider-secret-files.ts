import type { Env } from './env.js';
import { envPrefix } from './providers/common.variables.js';
import type { SecretField } from './runtime-secrets.js';
import type { SecretFile } from './secret-file.watcher.js';

/** The provider secrets that may be given as files, and so rotated while the gateway runs. */
const ROTATING: ReadonlyArray<[SecretField, string]> = [
  ['clientSecret', 'CLIENT_SECRET'],
  ['password', 'PASSWORD'],
  ['privateKey', 'PRIVATE_KEY'],
];

/** Every provider secret that came from a `*_FILE` (with its start-up value), for the watcher that reads them again. */
export function providerSecretFiles(
  rawEnv: Env,
  providers: ReadonlyArray<{ name: string } & Partial<Record<SecretField, string>>>,
): SecretFile[] {
  return providers.flatMap((provider) =>
    ROTATING.flatMap(([field, suffix]) => {
      const variable = `${envPrefix(provider.name)}_${suffix}_FILE`;
      const path = rawEnv[variable]?.trim();
      const value = provider[field];
      return path && value !== undefined ? [{ provider: provider.name, field, variable, path, value }] : [];
    }),
  );
}
