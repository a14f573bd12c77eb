import { closest } from 'fastest-levenshtein';
import { gatewaySchema } from './gateway-schema.js';
import { suffixesOf, type NamedProvider } from './provider-config.js';
import { envPrefix, FILE_SUFFIXES } from './providers/common.variables.js';

/** The gateway's own variables the schema does not hold: read by the env file loader, the keys' limits, `*_FILE` secrets. */
const GATEWAY_OTHER = [
  'ENV_FILE',
  'KEYS_FILE_MAX_BYTES',
  'KEYS_FILE_SETTLE_MS',
  'TOKEN_ENCRYPTION_KEY_FILE',
  'TOKEN_ENCRYPTION_PREVIOUS_KEYS_FILE',
  'REDIS_URL_FILE',
] as const;

/** The egress proxy's variables, in both cases as `proxy-from-env` reads them. */
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [name, name.toLowerCase()]);

/** The OpenTelemetry variables `tracing-config.ts` reads. */
export const OTEL_VARIABLES = [
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_PROPAGATORS',
  'OTEL_BSP_SCHEDULE_DELAY',
];

/** Every variable of the gateway itself, provider variables aside (documented one by one in docs/configuration.md). */
export const GATEWAY_VARIABLES: readonly string[] = [
  ...Object.keys(gatewaySchema.shape),
  ...GATEWAY_OTHER,
  ...PROXY_VARIABLES,
  ...OTEL_VARIABLES,
];

/** Read by the CLIs (the token CLI's key for `/tokens`), not by the gateway: known, so never taken for a typo. */
export const CLI_VARIABLES: readonly string[] = ['GATEWAY_API_KEY'];

/** What the test suites, `npm test` and the demo script set on the processes they start (never read as configuration). */
export const HARNESS_VARIABLES: readonly string[] = [
  'GATEWAY_TEST_OPTIONS',
  'TEST_REDIS_URL',
  'TEST_REDIS_CLUSTER',
  'TEST_PROMTOOL',
  'FUZZ_SEED',
  'FUZZ_PATH',
  'FUZZ_RUNS',
  'CI',
  'EMULATORS_PORT',
  'GATEWAY_PORTS',
];

/** What secrets may come from `<NAME>_FILE` for (said in a warning about a `_FILE` that is not one). */
const FILE_CAPABLE = `${FILE_SUFFIXES.map((s) => `*_${s}`).join(', ')}, TOKEN_ENCRYPTION_KEY, TOKEN_ENCRYPTION_PREVIOUS_KEYS, REDIS_URL`;

/** Every variable a configured provider reads: its type's suffixes under its prefix, and `_FILE` for those that may be files. */
export function providerVariableNames({ name, type, listed }: NamedProvider): string[] {
  const prefix = envPrefix(name);
  const suffixes = suffixesOf(type, listed);
  const files = suffixes.filter((s) => FILE_SUFFIXES.includes(s)).map((s) => `${s}_FILE`);
  return [...suffixes, ...files].map((suffix) => `${prefix}_${suffix}`);
}

/** The prefixes the gateway owns: an unknown variable under one of them is taken for a typo. */
const OWNED_PREFIXES = [
  'GATEWAY_',
  'TOKEN_',
  'REDIS_',
  'KEYS_',
  'MAX_',
  'UPSTREAM_',
  'CLIENT_',
  'UPLOAD_',
  'ADMIN_',
  'SHUTDOWN_',
  'SANDBOX',
];

/** Names Kubernetes injects for each Service of the namespace (`REDIS_SERVICE_HOST`, `REDIS_PORT_6379_TCP_ADDR`). */
const SERVICE_LINK = /(_SERVICE_HOST|_SERVICE_PORT(_[A-Z0-9_]+)?|_PORT|_PORT_\d+_(TCP|UDP|SCTP)(_[A-Z]+)?)$/;

/** The registry for one configuration: the gateway's, the CLIs', the harness's and the configured providers' variables. */
export class VariableRegistry {
  readonly known: ReadonlySet<string>;
  /** What a suggestion may name: the harness's variables are known but never what an operator meant. */
  private readonly suggestible: string[];
  private readonly prefixes: string[];

  constructor(named: readonly NamedProvider[]) {
    this.suggestible = [...GATEWAY_VARIABLES, ...CLI_VARIABLES, ...named.flatMap(providerVariableNames)];
    this.known = new Set([...this.suggestible, ...HARNESS_VARIABLES]);
    this.prefixes = [...OWNED_PREFIXES, ...named.map(({ name }) => `${envPrefix(name)}_`)].sort((a, b) => b.length - a.length);
  }

  /**
   * One line per variable under an owned prefix that nothing reads, naming the closest known
   * variable under the same prefix; service links are skipped. Only names are read, never values.
   */
  unknownLines(names: Iterable<string>): string[] {
    const lines: string[] = [];
    for (const name of [...names].sort()) {
      const prefix = this.prefixes.find((p) => name.startsWith(p));
      if (this.known.has(name) || prefix === undefined || SERVICE_LINK.test(name)) continue;
      const base = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : undefined;
      if (base !== undefined && this.known.has(base)) {
        lines.push(`${name}: not a variable the gateway reads; ${base} cannot be given as a file (only ${FILE_CAPABLE} can)`);
        continue;
      }
      const candidates = this.suggestible.filter((k) => k.startsWith(prefix));
      const suggestion = closest(name, candidates.length > 0 ? candidates : this.suggestible);
      lines.push(`${name}: not a variable the gateway reads; did you mean ${suggestion}?`);
    }
    return lines;
  }
}
