import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ALIASES_REFUSED, parseKeysFile } from './api-keys-file.parse.js';
import { entriesOf, keyDigest } from './api-keys.config.js';

const KNOWN = new Set(['latam', 'prio']);

/** An entry in one of the ways operators write them: block or flow mapping, with a comment, a nested list, folded. */
const entryStyle = fc.integer({ min: 0, max: 4 });
function entryText(style: number, indent: string, name: string, key: string): string {
  const lines = [
    [`- name: ${name}`, `  key: ${key}`, '  providers: "*"', '  rateLimit: 10/s'],
    [`- { name: ${name}, key: "${key}", providers: [latam, prio] }`],
    [`# ${name}`, `- name: ${name}   # a comment`, `  key: '${key}'`, '  providers:', '  - prio', '  - latam'],
    [`- key: ${key}`, `  name: ${name}`, '  providers: [', '      latam ]'],
    [`- name: ${name}`, '  key: >-', `    ${key}`, '  providers: "*"'],
  ][style];
  return lines.map((line) => `${indent}${line}\n`).join('');
}

describe('parseKeysFile', () => {
  it('reads a file part by part exactly as it reads it whole, whatever the style of its entries', () => {
    fc.assert(
      fc.property(
        fc.array(entryStyle, { minLength: 1, maxLength: 12 }),
        fc.constantFrom('', '  '),
        fc.integer({ min: 1, max: 5 }),
        (styles, indent, perPart) => {
          const text = `# callers\nkeys:\n${styles.map((style, i) => entryText(style, indent, `caller-${i}`, `key-${i}-xyz`)).join('')}`;
          const whole = parseKeysFile(text, KNOWN, Number.MAX_SAFE_INTEGER);
          const inParts = parseKeysFile(text, KNOWN, perPart);
          expect(inParts).toEqual(whole);
          expect(whole.ok && entriesOf(whole.table).map((e) => e.digest)).toEqual(styles.map((_, i) => keyDigest(`key-${i}-xyz`)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('names entries and YAML errors by their place in the whole file, not in the part', () => {
    const entries = Array.from({ length: 5 }, (_, i) => `  - { name: c${i}, key: k${i}-abcdef, providers: "*" }\n`);
    const duplicate = `keys:\n${entries.join('')}  - { name: c1, key: other-key, providers: "*" }\n`;
    expect(parseKeysFile(duplicate, KNOWN, 2)).toEqual({
      ok: false,
      problems: ['GATEWAY_API_KEYS_FILE: entry 6 (c1): name: already used by entry 2 (c1)'],
    });
    const broken = `keys:\n${entries.join('')}  - { name: c9, key: "unterminated }\n`;
    const read = parseKeysFile(broken, KNOWN, 2);
    expect(read).toEqual(parseKeysFile(broken, KNOWN, Number.MAX_SAFE_INTEGER));
    expect(read.ok || read.problems[0]).toMatch(/^GATEWAY_API_KEYS_FILE: not valid YAML at line 8, column 1 \([A-Z_]+\)$/);
  });

  it('refuses aliases, however few, before parsing anything', () => {
    const aliased = 'defaults: &d { providers: "*" }\nkeys:\n  - { name: a, key: k-abcdef, <<: *d }\n';
    expect(parseKeysFile(aliased, KNOWN)).toEqual({ ok: false, problems: [`GATEWAY_API_KEYS_FILE: ${ALIASES_REFUSED}`] });
    // An asterisk inside a quoted key is no alias.
    expect(parseKeysFile('keys:\n  - { name: a, key: "*not-an-alias", providers: "*" }\n', KNOWN).ok).toBe(true);
  });
});
