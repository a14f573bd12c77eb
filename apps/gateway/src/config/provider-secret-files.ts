import type { Env } from './env.js';
import { MAX_PEM_BYTES, type ProviderTransport } from './provider-transport.js';
import { envPrefix } from './providers/common.variables.js';
import type { SecretField } from './runtime-secrets.js';
import type { SecretFile } from './secret-file.watcher.js';
import { TLS_FIELDS } from './tls-rotation.js';

/** The provider secrets that may be given as files, and so rotated while the gateway runs. */
const ROTATING: ReadonlyArray<[SecretField, string]> = [
  ['clientSecret', 'CLIENT_SECRET'],
  ['password', 'PASSWORD'],
  ['privateKey', 'PRIVATE_KEY'],
];

/** The TLS files, PEM up to 1 MiB (the passphrase is a secret like the others). */
const TLS: ReadonlyArray<[keyof typeof TLS_FIELDS, string, number | undefined]> = [
  ['ca', 'TLS_CA', MAX_PEM_BYTES],
  ['cert', 'TLS_CERT', MAX_PEM_BYTES],
  ['key', 'TLS_KEY', MAX_PEM_BYTES],
  ['passphrase', 'TLS_KEY_PASSPHRASE', undefined],
];

/** Every provider secret that came from a `*_FILE` (with its start-up value), for the watcher that reads them again. */
export function providerSecretFiles(
  rawEnv: Env,
  providers: ReadonlyArray<{ name: string; transport?: ProviderTransport } & Partial<Record<SecretField, string>>>,
): SecretFile[] {
  return providers.flatMap((provider) => {
    const fileOf = (suffix: string, field: string, value: string | undefined, maxBytes?: number): SecretFile[] => {
      const variable = `${envPrefix(provider.name)}_${suffix}_FILE`;
      const path = rawEnv[variable]?.trim();
      return path && value !== undefined ? [{ provider: provider.name, field, variable, path, value, ...(maxBytes && { maxBytes }) }] : [];
    };
    return [
      ...ROTATING.flatMap(([field, suffix]) => fileOf(suffix, field, provider[field])),
      ...TLS.flatMap(([option, suffix, maxBytes]) => fileOf(suffix, TLS_FIELDS[option], provider.transport?.tls?.[option], maxBytes)),
    ];
  });
}
