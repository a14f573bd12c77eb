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

/** The TLS files, up to 1 MiB as at start-up (`readPem`), the passphrase's included. */
const TLS: ReadonlyArray<[keyof typeof TLS_FIELDS, string]> = [
  ['ca', 'TLS_CA'],
  ['cert', 'TLS_CERT'],
  ['key', 'TLS_KEY'],
  ['passphrase', 'TLS_KEY_PASSPHRASE'],
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
      ...TLS.flatMap(([option, suffix]) => fileOf(suffix, TLS_FIELDS[option], provider.transport?.tls?.[option], MAX_PEM_BYTES)),
    ];
  });
}
