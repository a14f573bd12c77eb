import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PROVIDER_TYPES, type ProviderType } from '../../apps/gateway/src/config/providers/provider-registry.js';
import {
  CLI_VARIABLES,
  GATEWAY_VARIABLES,
  HARNESS_VARIABLES,
  providerVariableNames,
} from '../../apps/gateway/src/config/variable-registry.js';
import { PROBLEMS } from '../../apps/gateway/src/problem/problem.js';
import { ROOT } from '../support/processes.js';

/**
 * The documentation follows the code: each check reads what the code can produce (problem codes,
 * variables, metrics) and looks for it in the document that promises to list it, so documenting
 * something before its code lands is fine, and code that lands undocumented fails here.
 */

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Names in code spans that are a provider's prefix, not a variable (`my-idp` → `MY_IDP`). */
const PREFIXES_ONLY = ['MY_IDP', 'LATAM', 'PRIO', 'PRIO_EU'];
const matches = (pattern: RegExp, text: string, group = 1) => [...text.matchAll(pattern)].map((m) => m[group]);

describe('docs/gateway.md lists every problem code with its status', () => {
  const doc = read('docs/gateway.md');
  const codes = Object.entries(PROBLEMS);

  it.each(codes)('%s', (code, { status }) => {
    expect(doc).toMatch(new RegExp(`\\|\\s*${status}\\s*\\|\\s*\`${code}\`\\s*\\|`));
  });

  it('reads the table the way it is written (a code under another status is not found)', () => {
    expect(codes.length).toBeGreaterThan(15);
    expect(doc).not.toMatch(/\|\s*404\s*\|\s*`forbidden`\s*\|/);
  });
});

/** Every `.ts` file under a directory, tests aside. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourcesUnder(`${dir}/${entry.name}`)
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')
        ? [`${dir}/${entry.name}`]
        : [],
  );
}

describe("docs/gateway.md lists every operator route the gateway's controllers serve", () => {
  const doc = read('docs/gateway.md');
  const routes = sourcesUnder('apps/gateway/src').flatMap((file) => {
    const text = read(file);
    const base = /@Controller\('([^']*)'\)/.exec(text)?.[1];
    if (base === undefined) return [];
    return [...text.matchAll(/@(Get|Post|Put|Patch|Delete|Head|Options)\((?:'([^']*)')?\)/g)].map(
      ([, method, path]) =>
        `${method.toUpperCase()} ${
          ['', base, path]
            .filter((p) => p !== undefined && p !== '')
            .map((p) => `/${p}`)
            .join('') || '/'
        }`,
    );
  });

  it('finds the routes (the scan itself works)', () => {
    expect(routes).toEqual(expect.arrayContaining(['GET /metrics', 'GET /health/ready']));
  });

  it.each(routes)('%s', (route) => {
    expect(doc).toContain(`\`${route}\``);
  });
});

/**
 * The variables the configuration code reads: the schema's keys and `env.NAME` reads, each
 * built-in and generic provider's suffixes (`${prefix}_SCOPE`, `get('SCOPE')`, the required
 * lists), the CLIs' own variables, the emulators' flags and the demo script's settings.
 */
function variablesRead(): { full: string[]; suffixes: string[]; flags: string[] } {
  // The registry's own lists are checked against the document below, and are not what the code reads.
  const files = [...sourcesUnder('apps/gateway/src/config'), ...sourcesUnder('apps/gateway/src/cli'), 'apps/gateway/src/main.ts'].filter(
    (file) => !file.includes('/variable-registry'),
  );
  const full = new Set<string>();
  const suffixes = new Set<string>();
  for (const file of files) {
    const text = read(file);
    for (const name of matches(/\benv(?:\?)?\.([A-Z][A-Z0-9_]*)\b/g, text)) full.add(name);
    for (const name of matches(/\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g, text)) full.add(name);
    for (const name of matches(/^\s+([A-Z][A-Z0-9_]*): /gm, text)) full.add(name);
    for (const name of matches(/\$\{prefix\}_([A-Z][A-Z0-9_]*)\b/g, text)) suffixes.add(name);
    for (const name of matches(/\bget\('([A-Z][A-Z0-9_]*)'\)/g, text)) suffixes.add(name);
    // The required suffixes' lists: `['TOKEN_URL', 'API_URL', ...]`, `payme: ['AUDIENCE']`.
    for (const list of matches(/\[((?:\s*'[A-Z][A-Z0-9_]*',?)+)\s*\]/g, text))
      for (const name of matches(/'([A-Z][A-Z0-9_]*)'/g, list)) suffixes.add(name);
    if (text.includes("'_FILE'")) suffixes.add('FILE');
  }
  const demo = read('scripts/demo-cluster.sh');
  for (const name of matches(/\$\{([A-Z][A-Z0-9_]*):-/g, demo)) full.add(name);
  const emulators = read('libs/provider-emulators/src/main.ts');
  const options = /parseArgs\(\{ options: \{(.*?)\} \}\)/s.exec(emulators)?.[1] ?? '';
  const flags = matches(/'?([a-z][a-z-]*)'?: \{ type:/g, options).map((name) => `--${name}`);
  return { full: [...full].sort(), suffixes: [...suffixes].sort(), flags };
}

describe('docs/configuration.md describes every variable the code reads', () => {
  const doc = read('docs/configuration.md');
  const { full, suffixes, flags } = variablesRead();

  it('finds the variables (the scan itself works)', () => {
    expect(full).toEqual(
      expect.arrayContaining(['PORT', 'GATEWAY_API_KEYS_FILE', 'ENV_FILE', 'GATEWAY_API_KEY', 'TRUSTED_PROXIES', 'EMULATORS_PORT']),
    );
    expect(suffixes).toEqual(expect.arrayContaining(['TOKEN_URL', 'CLIENT_SECRET', 'AUDIENCE', 'SCOPE', 'TEST_ENV', 'GRANT_TYPE', 'FILE']));
    expect(flags).toEqual(['--port', '--host', '--write-env']);
  });

  it.each(full)('%s', (name) => {
    expect(doc).toMatch(new RegExp(`\`${escape(name)}[\`=]`));
  });

  // A provider's suffix is documented as one of its variables (`PRIO_SCOPE`) or as `<NAME>_SCOPE`.
  it.each(suffixes)('*_%s', (suffix) => {
    expect(doc).toMatch(new RegExp(`\`(?:[A-Z][A-Z0-9_]*|<NAME>|<SECRET>|\\*)_${suffix}[\`=]`));
  });

  it.each(flags)('the emulators flag %s', (flag) => {
    expect(doc).toContain(`\`${flag}`);
  });
});

describe('docs/configuration.md and the variable registry agree, both ways', () => {
  const doc = read('docs/configuration.md');
  const registered = new Set([...GATEWAY_VARIABLES, ...CLI_VARIABLES, ...HARNESS_VARIABLES]);
  // Every suffix any provider type reads (with `_FILE` where a file is accepted), as a generic listed name `X` reads them.
  const suffixes = new Set(
    Object.keys(PROVIDER_TYPES).flatMap((type) =>
      providerVariableNames({ name: 'x', type: type as ProviderType, listed: true }).map((name) => name.slice('X_'.length)),
    ),
  );
  // A variable in a code span: a name with an underscore, or one given a value (`CI=true`); `NAME=value` is the syntax's placeholder.
  const documented = [...new Set(matches(/`([A-Z][A-Z0-9]*_[A-Z0-9_]*|[A-Z][A-Z0-9_]*(?==))[`=]/g, doc))]
    .filter((n) => n !== 'NAME')
    .sort();
  const isProviderVariable = (name: string) => [...suffixes].some((suffix) => name.endsWith(`_${suffix}`));

  it('finds both lists (the scan itself works)', () => {
    expect(documented).toEqual(expect.arrayContaining(['ADMIN_PORT', 'CONFIG_STRICT', 'PRIO_SCOPE', 'HTTPS_PROXY', 'CI']));
    expect([isProviderVariable('PRIO_EU_SCOPE'), isProviderVariable('PRIO_CLIENTID'), registered.has('UPSTREAM_TIMEOUT')]).toEqual([
      true,
      false,
      false,
    ]);
    expect(suffixes).toEqual(new Set([...suffixes, 'CLIENT_SECRET_FILE', 'TLS_KEY_FILE', 'TYPE', 'AUDIENCE']));
  });

  it.each(GATEWAY_VARIABLES.filter((name) => name === name.toUpperCase()))('registered %s is documented', (name) => {
    expect(doc).toMatch(new RegExp(`\`${escape(name)}[\`=]`));
  });

  it.each(documented.filter((name) => !name.endsWith('_') && !PREFIXES_ONLY.includes(name)))('documented %s is registered', (name) => {
    expect({ name, known: registered.has(name) || isProviderVariable(name) }).toEqual({ name, known: true });
  });

  it.each(variablesRead().full)('%s, which the code reads, is registered', (name) => {
    expect({ name, registered: registered.has(name) }).toEqual({ name, registered: true });
  });
});

describe('docs/operations.md lists every metric the gateway registers', () => {
  const doc = read('docs/operations.md');
  const names = [
    ...new Set(sourcesUnder('apps/gateway/src').flatMap((file) => matches(/['"](gateway_[a-z0-9_]+)['"]/g, read(file)))),
  ].sort();

  it('finds the metrics (the scan itself works)', () => {
    expect(names).toEqual(
      expect.arrayContaining(['gateway_proxied_requests_total', 'gateway_proxied_overhead_duration_seconds', 'gateway_keys_loaded']),
    );
  });

  it.each(names)('%s', (name) => {
    expect(doc).toContain(`\`${name}\``);
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const heading of matches(/^#{1,6} (.+)$/gm, markdown.replace(/^```[\s\S]*?^```/gm, ''))) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

describe('relative links in README.md and docs/*.md point to files (and headings) that exist', () => {
  const documents = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((n) => n.endsWith('.md'))
      .map((n) => `docs/${n}`),
  ];
  const links = documents.flatMap((document) =>
    matches(/\]\(([^)\s]+)\)/g, read(document).replace(/^```[\s\S]*?^```/gm, ''))
      .filter((target) => !/^[a-z]+:/.test(target))
      .map((target) => ({ document, target })),
  );

  it('finds the links (the scan itself works)', () => {
    expect(links.length).toBeGreaterThan(20);
    expect(anchorsOf('## Callers: `GATEWAY_API_KEYS` or `GATEWAY_API_KEYS_FILE`\n')).toEqual(
      new Set(['callers-gateway_api_keys-or-gateway_api_keys_file']),
    );
  });

  // Files named in code spans (`test/fault-matrix.e2e-spec.ts`, `scripts/build-image-tree.sh`) are cited too.
  const cited = documents.flatMap((document) =>
    matches(/`((?:apps|libs|test|scripts|deploy|bench|docs)\/[\w./-]*\w)`/g, read(document)).map((path) => [document, path]),
  );

  it.each(cited)('%s cites %s', (document, path) => {
    expect({ path, exists: existsSync(join(ROOT, path)) }).toEqual({ path, exists: true });
  });

  it.each(links.map(({ document, target }) => [document, target]))('%s → %s', (document, target) => {
    const [path, anchor] = target.split('#');
    const file = path === '' ? join(ROOT, document) : join(ROOT, dirname(document), path);
    expect({ target, exists: existsSync(file) }).toEqual({ target, exists: true });
    if (anchor !== undefined && file.endsWith('.md')) {
      expect({ target, anchors: [...anchorsOf(readFileSync(file, 'utf8'))] }).toEqual({
        target,
        anchors: expect.arrayContaining([anchor]),
      });
    }
    expect(relative(ROOT, file).startsWith('..')).toBe(false);
  });
});
