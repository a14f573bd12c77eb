import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { KEY_NAME, keyDigest } from '../config/api-keys.config.js';
import { BUILT_IN_PROVIDERS } from '../config/providers/provider-registry.js';
import type { Env } from '../config/parse-config.js';
import { parseRateLimit } from '../config/rate-limit.policy.js';
import type { CliIo } from './cli-io.js';

export const KEYS_USAGE = `Usage: npm run -s keys -- new NAME [--providers a,b] [--rate-limit 100/s]

  new NAME             make a key for the caller NAME ([a-z0-9._-], up to 64): prints the key
                       once, then its GATEWAY_API_KEYS_FILE entry, which holds only its SHA-256
  --providers a,b      the providers it may use: built-in or OAUTH_PROVIDERS names (default: all, "*")
  --rate-limit N/s     at most N requests per second (N/m: per minute), in bursts of up to N

  Reads OAUTH_PROVIDERS as the gateway does (the environment, ENV_FILE or .env).
  stdout: the key on the first line, then the entry; to keep the key in $KEY and append the entry:
    { read -r KEY; cat >> keys.yaml; } < <(npm run -s keys -- new partner-a)`;

/** What the key looks like: a recognisable prefix (for secret scanners) and 256 random bits. */
export const newApiKey = () => `gwk_${randomBytes(32).toString('base64url')}`;

/** `npm run keys`: resolves with the exit code (0 done, 2 usage). */
export function runKeysCli(argv: string[], env: Env, io: CliIo): number {
  const usage = (problem: string) => {
    io.err(`${problem}\n\n${KEYS_USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { providers: { type: 'string' }, 'rate-limit': { type: 'string' } },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const [command, name, ...extra] = parsed.positionals;
  if (command !== 'new' || name === undefined || extra.length > 0) return usage('Expected: new NAME');
  if (!KEY_NAME.test(name)) return usage('NAME: 1 to 64 characters among a-z 0-9 . _ -');

  const known = new Set<string>([...BUILT_IN_PROVIDERS, ...(env.OAUTH_PROVIDERS ?? '').split(',').map((n) => n.trim())]);
  const providers = parsed.values.providers?.split(',').map((p) => p.trim());
  if (providers?.some((p) => !known.has(p))) return usage(`--providers: known providers are ${[...known].filter(Boolean).join(', ')}`);
  const rateLimit = parsed.values['rate-limit'];
  if (rateLimit !== undefined && !parseRateLimit(rateLimit)) return usage('--rate-limit: N/s or N/m, N a whole number from 1 to 1000000');

  const key = newApiKey();
  io.out(key);
  io.out(`  - name: ${name}`);
  io.out(`    key: sha256:${keyDigest(key)}`);
  io.out(`    providers: ${providers && !providers.includes('*') ? `[${providers.join(', ')}]` : '"*"'}`);
  if (rateLimit !== undefined) io.out(`    rateLimit: ${rateLimit}`);
  io.err(`The key of ${name} is on the first line above. It will not be shown again: the gateway keeps only its SHA-256.`);
  io.err('Add the entry that follows the key to GATEWAY_API_KEYS_FILE (under keys:); the gateway picks it up without a restart.');
  return 0;
}
