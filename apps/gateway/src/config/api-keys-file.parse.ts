import { isDeepStrictEqual } from 'node:util';
import { CST, Lexer, parseDocument } from 'yaml';
import { z } from 'zod';
import { entriesOf, issueLine, KEYS_FILE, KeysFileEntries, type ApiKeysRead } from './api-keys.config.js';
import type { KeysTable } from './api-keys.table.js';

/** A keys file's table, or why it cannot be used (one line per problem, never a key). */
export type KeysFileParse = { ok: true; table: KeysTable } | { ok: false; problems: string[] };

/**
 * Entries parsed at a time: a YAML syntax tree takes many times its text's size, so a file of
 * hundreds of thousands of keys is parsed part by part within the parser thread's heap.
 */
export const ENTRIES_PER_PART = 1_000;

export const ALIASES_REFUSED = 'aliases are not allowed (write each entry out instead of &anchor / *alias)';

const failed = (...problems: string[]): KeysFileParse => ({ ok: false, problems: problems.map((p) => `${KEYS_FILE}: ${p}`) });

const fileSchema = z.strictObject(
  { keys: z.array(z.unknown(), { error: 'must be a list of entries' }) },
  { error: 'must be a mapping with a keys: list' },
);

/** Markers the lexer emits that are not part of the source text. */
const MARKERS = new Set<string>([CST.DOCUMENT, CST.FLOW_END, CST.SCALAR]);

/**
 * Where the entries of the top-level block sequence start (the `-` of each, first on its line at
 * the sequence's column, outside any flow collection), read with YAML's own lexer; `aliases` when
 * the file uses any (their expansion is how a small file becomes a huge document).
 */
function entryStarts(text: string): number[] | 'aliases' {
  const starts: number[] = [];
  let offset = 0;
  let lineStart = 0;
  let lineBegins = true;
  let flow = 0;
  let column: number | undefined;
  for (const token of new Lexer().lex(text)) {
    if (MARKERS.has(token)) continue;
    const type = CST.tokenType(token);
    if (type === 'alias') return 'aliases';
    if (type === 'flow-map-start' || type === 'flow-seq-start') flow++;
    else if (type === 'flow-map-end' || type === 'flow-seq-end') flow = Math.max(0, flow - 1);
    else if (type === 'seq-item-ind' && flow === 0 && lineBegins) {
      column ??= offset - lineStart;
      if (offset - lineStart === column) starts.push(offset);
    }
    const newline = token.lastIndexOf('\n');
    if (newline !== -1) lineStart = offset + newline + 1;
    if (newline === token.length - 1) lineBegins = true;
    else if (type !== 'space') lineBegins = false;
    offset += token.length;
  }
  return starts;
}

/** Line and column (from 1) of an offset. */
function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/**
 * The parts to parse: the text before the first entry (`keys:` and comments), each followed by a
 * run of entries. When that head is anything but `keys:` on its own, the file is one part.
 */
function partsOf(text: string, starts: number[], perPart: number): { head: string; parts: Array<[number, number]> } {
  const head = starts.length === 0 ? '' : text.slice(0, starts[0]);
  const headDoc = parseDocument(head, { schema: 'failsafe' });
  if (starts.length === 0 || headDoc.errors.length > 0 || !isDeepStrictEqual(headDoc.toJS(), { keys: '' })) {
    return { head: '', parts: [[0, text.length]] };
  }
  const parts: Array<[number, number]> = [];
  for (let i = 0; i < starts.length; i += perPart) parts.push([starts[i], starts[i + perPart] ?? text.length]);
  return { head, parts };
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
 * stays the key that was written. Aliases are refused. Problem lines never hold a key, nor any
 * YAML source text (a parser's excerpt could show one).
 */
export function parseKeysFile(text: string, known: ReadonlySet<string>, perPart = ENTRIES_PER_PART): KeysFileParse {
  const starts = entryStarts(text);
  if (starts === 'aliases') return failed(ALIASES_REFUSED);
  const { head, parts } = partsOf(text, starts, perPart);
  const entries = new KeysFileEntries(known);
  for (const [from, to] of parts) {
    const doc = parseDocument(head + text.slice(from, to), { schema: 'failsafe', prettyErrors: false });
    const inFile = (offset: number) => (offset < head.length ? offset : offset - head.length + from);
    if (doc.errors.length > 0) return failed(...doc.errors.map((e) => `not valid YAML at ${position(text, inFile(e.pos[0]))} (${e.code})`));
    const file = fileSchema.safeParse(doc.toJS({ maxAliasCount: 0 }));
    if (!file.success) return failed(...file.error.issues.map(issueLine));
    for (const raw of file.data.keys) entries.add(raw);
  }
  return entries.problems.length > 0 ? { ok: false, problems: entries.problems } : { ok: true, table: entries.build() };
}

/** `parseKeysFile`'s entries, one object each. */
export function parseApiKeysYaml(text: string, known: ReadonlySet<string>): ApiKeysRead {
  const read = parseKeysFile(text, known);
  return read.ok ? { ok: true, keys: entriesOf(read.table) } : read;
}
