import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { parseRateLimit } from './rate-limit.policy.js';
import type { ApiKeyEntry } from './gateway-config.js';

/** A caller's name: shown in logs and part of Redis key names, so a short plain slug. */
export const KEY_NAME = /^[a-z0-9._-]{1,64}$/;
const DIGEST_PREFIX = 'sha256:';
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** SHA-256 of a key's UTF-8 bytes, as 64 hex digits: what the request path computes from `x-api-key`. */
export const keyDigest = (key: string): string => hash('sha256', key, 'hex');

/** `sha256:<64 hex>` gives that digest (lowercased); a plain key its own digest; a malformed `sha256:` undefined. */
function digestOf(key: string): string | undefined {
  if (!key.startsWith(DIGEST_PREFIX)) return keyDigest(key);
  const hex = key.slice(DIGEST_PREFIX.length);
  return HEX64.test(hex) ? hex.toLowerCase() : undefined;
}

/**
 * The callers, from `GATEWAY_API_KEYS` or `GATEWAY_API_KEYS_FILE` (never both). The file is read
 * and validated by `withKeysFile` before the gateway starts (in a worker: it may be large).
 */
export function parseCallerKeys(
  env: Record<string, string | undefined>,
  known: ReadonlySet<string>,
  problems: string[],
): { apiKeys: ApiKeyEntry[]; apiKeysFile?: string } {
  const file = env.GATEWAY_API_KEYS_FILE;
  if (file === undefined) return { apiKeys: parseApiKeysEnv(env.GATEWAY_API_KEYS, known, problems) };
  if (env.GATEWAY_API_KEYS !== undefined) {
    problems.push('GATEWAY_API_KEYS_FILE: cannot be combined with GATEWAY_API_KEYS (keep one source of keys)');
    return { apiKeys: [] };
  }
  return { apiKeys: [], apiKeysFile: file };
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

const FILE = 'GATEWAY_API_KEYS_FILE';
const failed = (...problems: string[]): ApiKeysRead => ({ ok: false, problems: problems.map((p) => `${FILE}: ${p}`) });

/**
 * A keys file's text and its SHA-256 (`content`: `missing` when it cannot be read), so that a
 * reload can tell a changed file from one that was only touched before parsing anything.
 */
export function readKeysText(path: string): { text: string; content: string } | { problem: ApiKeysRead; content: 'missing' } {
  try {
    const text = readFileSync(path, 'utf8');
    return { text, content: keyDigest(text) };
  } catch (error) {
    return { problem: failed(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`), content: 'missing' };
  }
}

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

const fileSchema = z.strictObject(
  { keys: z.array(z.unknown(), { error: 'must be a list of entries' }) },
  { error: 'must be a mapping with a keys: list' },
);

const FIELDS = ['name', 'key', 'providers', 'rateLimit'];
const normalised = (field: string) => field.toLowerCase().replace(/[-_]/g, '');

/**
 * A zod issue as one line. An unknown field is named only when it is a known one misspelt in case
 * or separators (`ratelimit`, `rate_limit`): any other could be a key pasted in the wrong place.
 */
function describe(issue: z.core.$ZodIssue): string {
  const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  if (issue.code !== 'unrecognized_keys') return `${at}${issue.message}`;
  const hints = issue.keys.flatMap((k) => FIELDS.filter((f) => normalised(f) === normalised(k)).map((f) => `${k} (did you mean ${f}?)`));
  return `${at}unknown field${issue.keys.length > 1 ? 's' : ''}${hints.length > 0 ? ` ${hints.join(', ')}` : ''}; the fields are ${FIELDS.join(', ')}`;
}

/**
 * A keys file:
 * ```yaml
 * keys:
 *   - name: partner-a          # [a-z0-9._-]{1,64}, unique; shown in logs, never the key
 *     key: sha256:9f86d081...  # the key's SHA-256 in hex, or the key itself
 *     providers: [latam, prio] # or "*"
 *     rateLimit: 100/s         # optional: N/s or N/m
 * ```
 * Every scalar is read as a string (YAML's failsafe schema), so a key such as `0x1e5` or `yes`
 * stays the key that was written. Problem lines name an entry by position and, when valid, by
 * name; they never hold a key, nor any YAML source text (a parser's excerpt could show one).
 */
export function parseApiKeysYaml(text: string, known: ReadonlySet<string>): ApiKeysRead {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: 'failsafe', prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    return failed(
      ...doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `not valid YAML at line ${line}, column ${col} (${e.code})`;
      }),
    );
  }
  const file = fileSchema.safeParse(doc.toJS());
  if (!file.success) return failed(...file.error.issues.map(describe));

  const problems: string[] = [];
  const keys: ApiKeyEntry[] = [];
  const names = new Map<string, string>();
  const digests = new Map<string, string>();
  file.data.keys.forEach((raw, index) => {
    const rawName = (raw as { name?: unknown } | null)?.name;
    const label = `entry ${index + 1}${typeof rawName === 'string' && KEY_NAME.test(rawName) ? ` (${rawName})` : ''}`;
    const problem = (line: string) => problems.push(`${FILE}: ${label}: ${line}`);
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) return parsed.error.issues.forEach((issue) => problem(describe(issue)));
    const { name, key, providers, rateLimit } = parsed.data;
    const digest = digestOf(key);
    const policy = rateLimit === undefined ? undefined : parseRateLimit(rateLimit);
    const unknown = providers === '*' ? -1 : providers.findIndex((p) => !known.has(p));
    if (digest === undefined) problem('key: sha256: must be followed by exactly 64 hex digits');
    if (rateLimit !== undefined && !policy) problem('rateLimit: must be N/s or N/m, N a whole number from 1 to 1000000');
    if (unknown >= 0) problem(`providers: item ${unknown + 1} is not a built-in or OAUTH_PROVIDERS name (or use providers: "*")`);
    if (names.has(name)) problem(`name: already used by ${names.get(name)}`);
    if (digest !== undefined && digests.has(digest)) problem(`key: the same key as ${digests.get(digest)}`);
    names.set(name, label);
    if (digest !== undefined) digests.set(digest, label);
    if (problems.length === 0)
      keys.push({ name, digest: digest!, providers: providers === '*' ? '*' : new Set(providers), rateLimit: policy });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, keys };
}
