import { hash } from 'node:crypto';
import { z } from 'zod';
import { parseRateLimit } from './rate-limit.policy.js';
import type { ApiKeyEntry, KeysFileLimits } from './gateway-config.js';
import { integer } from './gateway-schema.js';
import { KeysTableBuilder, nameAt, type KeysTable } from './api-keys.table.js';

/** A caller's name: shown in logs and part of Redis key names, so a short plain slug. */
export const KEY_NAME = /^[a-z0-9._-]{1,64}$/;
const DIGEST_PREFIX = 'sha256:';
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** SHA-256 of a key's UTF-8 bytes, as 64 hex digits: what the request path computes from `x-api-key`. */
export const keyDigest = (key: string): string => hash('sha256', key, 'hex');

/** `sha256:<64 hex>` gives that digest (lowercased); a plain key its own digest; a malformed `sha256:` undefined. */
export function digestOf(key: string): string | undefined {
  if (!key.startsWith(DIGEST_PREFIX)) return keyDigest(key);
  const hex = key.slice(DIGEST_PREFIX.length);
  return HEX64.test(hex) ? hex.toLowerCase() : undefined;
}

/**
 * The callers, from `GATEWAY_API_KEYS` or `GATEWAY_API_KEYS_FILE` (never both), and how the file is
 * read. The file itself is read and validated by `withKeysFile` before the gateway starts.
 */
export function parseCallerKeys(
  env: Record<string, string | undefined>,
  known: ReadonlySet<string>,
  problems: string[],
): { apiKeys: ApiKeyEntry[]; apiKeysFile?: string; keysFileLimits: KeysFileLimits } {
  const keysFileLimits = {
    maxBytes: limit('KEYS_FILE_MAX_BYTES', env.KEYS_FILE_MAX_BYTES, integer(64 * 1024 * 1024, 1), problems),
    settleMs: limit('KEYS_FILE_SETTLE_MS', env.KEYS_FILE_SETTLE_MS, integer(1_000, 0, 60_000), problems),
  };
  const file = env.GATEWAY_API_KEYS_FILE;
  if (file === undefined) return { apiKeys: parseApiKeysEnv(env.GATEWAY_API_KEYS, known, problems), keysFileLimits };
  if (env.GATEWAY_API_KEYS !== undefined) {
    problems.push('GATEWAY_API_KEYS_FILE: cannot be combined with GATEWAY_API_KEYS (keep one source of keys)');
    return { apiKeys: [], keysFileLimits };
  }
  return { apiKeys: [], apiKeysFile: file, keysFileLimits };
}

function limit(name: string, value: string | undefined, schema: z.ZodType<number, string | undefined>, problems: string[]): number {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  problems.push(`${name}: ${parsed.error.issues[0].message}`);
  return 0;
}

/**
 * `GATEWAY_API_KEYS`: comma-separated entries `KEY[:PROVIDERS]`, named `env-1`, `env-2`... in order.
 * KEY is `sha256:` followed by exactly 64 hex digits (the key's SHA-256), or else the key itself,
 * which runs to the first `:` (so a plain key holds no `,`, `:` or whitespace, and does not begin
 * with `sha256:`). PROVIDERS is `*` or provider names joined by `|`; without it, `*`. Problem lines
 * name the entry by its position and never echo a key, nor the providers (a mistyped separator
 * could make them part of a key).
 */
export function parseApiKeysEnv(value: string | undefined, known: ReadonlySet<string>, problems: string[]): ApiKeyEntry[] {
  if (value === undefined) return [];
  const entries: ApiKeyEntry[] = [];
  const seen = new Set<string>();
  value.split(',').forEach((raw, index) => {
    const where = `GATEWAY_API_KEYS: entry ${index + 1}`;
    const entry = raw.trim();
    const hashed = entry.startsWith(DIGEST_PREFIX);
    const keyEnd = hashed ? DIGEST_PREFIX.length + 64 : entry.indexOf(':');
    const key = keyEnd === -1 ? entry : entry.slice(0, keyEnd);
    const rest = keyEnd === -1 ? '' : entry.slice(keyEnd);
    if (hashed && (!HEX64.test(key.slice(DIGEST_PREFIX.length)) || (rest !== '' && !rest.startsWith(':')))) {
      return problems.push(`${where}: sha256: must be followed by exactly 64 hex digits`);
    }
    const spec = rest === '' ? '*' : rest.slice(1).trim();
    if (key === '' || /\s/.test(key)) return problems.push(`${where}: the key is empty or contains spaces`);
    const digest = digestOf(key)!;
    if (seen.has(digest)) return problems.push(`${where}: the same key is listed twice`);
    seen.add(digest);
    const name = `env-${index + 1}`;
    if (spec === '*') return entries.push({ name, digest, providers: '*' });
    const names = spec.split('|').map((n) => n.trim());
    if (names.some((n) => !known.has(n))) {
      return problems.push(`${where}: providers must be * or built-in / OAUTH_PROVIDERS names joined by |`);
    }
    entries.push({ name, digest, providers: new Set(names) });
  });
  return entries;
}

/** The keys of a file, or why it cannot be used (one line per problem, never a key). */
export type ApiKeysRead = { ok: true; keys: ApiKeyEntry[] } | { ok: false; problems: string[] };

export const KEYS_FILE = 'GATEWAY_API_KEYS_FILE';

const PROVIDERS_WANTED = 'must be "*" or a non-empty list of provider names';
const entrySchema = z.strictObject(
  {
    name: z.string({ error: 'must be a string' }).regex(KEY_NAME, 'must be 1 to 64 characters among a-z 0-9 . _ -'),
    key: z.string({ error: 'must be a string' }).regex(/^\S+$/, 'is empty or contains spaces'),
    providers: z.union([z.literal('*'), z.array(z.string()).min(1, PROVIDERS_WANTED)], { error: PROVIDERS_WANTED }),
    rateLimit: z.string({ error: 'must be N/s or N/m' }).optional(),
  },
  { error: 'must be a mapping with name, key and providers' },
);

const FIELDS = ['name', 'key', 'providers', 'rateLimit'];
const normalised = (field: string) => field.toLowerCase().replace(/[-_]/g, '');

/**
 * A zod issue as one line. An unknown field is named only when it is a known one misspelt in case
 * or separators (`ratelimit`, `rate_limit`): any other could be a key pasted in the wrong place.
 */
export function issueLine(issue: z.core.$ZodIssue): string {
  const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  if (issue.code !== 'unrecognized_keys') return `${at}${issue.message}`;
  const hints = issue.keys.flatMap((k) => FIELDS.filter((f) => normalised(f) === normalised(k)).map((f) => `${k} (did you mean ${f}?)`));
  return `${at}unknown field${issue.keys.length > 1 ? 's' : ''}${hints.length > 0 ? ` ${hints.join(', ')}` : ''}; the fields are ${FIELDS.join(', ')}`;
}

/**
 * The entries of a keys file, checked one by one as they are parsed (a large file is parsed in
 * parts) into a `KeysTable`. Problem lines name an entry by position and, when valid, by name;
 * they never hold a key.
 */
export class KeysFileEntries {
  readonly problems: string[] = [];
  private readonly table = new KeysTableBuilder();
  private count = 0;
  private readonly names = new Map<string, string>();
  private readonly digests = new Map<string, string>();

  constructor(private readonly known: ReadonlySet<string>) {}

  add(raw: unknown): void {
    const index = this.count++;
    const rawName = (raw as { name?: unknown } | null)?.name;
    const label = `entry ${index + 1}${typeof rawName === 'string' && KEY_NAME.test(rawName) ? ` (${rawName})` : ''}`;
    const problem = (line: string) => this.problems.push(`${KEYS_FILE}: ${label}: ${line}`);
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) return parsed.error.issues.forEach((issue) => problem(issueLine(issue)));
    const { name, key, providers, rateLimit } = parsed.data;
    const digest = digestOf(key);
    const unknown = providers === '*' ? -1 : providers.findIndex((p) => !this.known.has(p));
    if (digest === undefined) problem('key: sha256: must be followed by exactly 64 hex digits');
    if (rateLimit !== undefined && !parseRateLimit(rateLimit)) problem('rateLimit: must be N/s or N/m, N a whole number from 1 to 1000000');
    if (unknown >= 0) problem(`providers: item ${unknown + 1} is not a built-in or OAUTH_PROVIDERS name (or use providers: "*")`);
    if (this.names.has(name)) problem(`name: already used by ${this.names.get(name)}`);
    if (digest !== undefined && this.digests.has(digest)) problem(`key: the same key as ${this.digests.get(digest)}`);
    this.names.set(name, label);
    if (digest !== undefined) this.digests.set(digest, label);
    if (this.problems.length === 0) this.table.add(name, digest!, { providers, rateLimit });
  }

  build(): KeysTable {
    return this.table.build();
  }
}

/** A grant as the request path uses it: providers as a set, the rate limit parsed. */
export function grantsOf(table: KeysTable): Array<Pick<ApiKeyEntry, 'providers' | 'rateLimit'>> {
  return table.grants.map(({ providers, rateLimit }) => ({
    providers: providers === '*' ? '*' : new Set(providers),
    rateLimit: rateLimit === undefined ? undefined : parseRateLimit(rateLimit),
  }));
}

/** A table's entries, one object each (start-up and tests: the request path reads the table itself). */
export function entriesOf(table: KeysTable): ApiKeyEntry[] {
  const grants = grantsOf(table);
  const hex = Buffer.from(table.digests.buffer, table.digests.byteOffset, table.digests.byteLength).toString('hex');
  return Array.from(table.grantOf, (grant, i) => ({ name: nameAt(table, i), digest: hex.slice(i * 64, i * 64 + 64), ...grants[grant] }));
}

/** Entries (from `GATEWAY_API_KEYS`, the sandbox, tests) as a table. */
export function tableOf(entries: readonly ApiKeyEntry[]): KeysTable {
  const builder = new KeysTableBuilder();
  for (const { name, digest, providers, rateLimit } of entries) {
    builder.add(name, digest, { providers: providers === '*' ? '*' : [...providers], rateLimit: rateLimit?.text });
  }
  return builder.build();
}
