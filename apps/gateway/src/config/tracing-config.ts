/**
 * OpenTelemetry tracing, configured by the standard `OTEL_*` variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/), read here
 * from the gateway's own environment (which may come from `ENV_FILE`) and handed to the SDK
 * explicitly, so that the SDK never reads a variable the gateway did not check.
 */
export interface TracingConfig {
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL`. */
  protocol: 'http/protobuf' | 'http/json';
  /** The traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  url: string;
  /** `OTEL_EXPORTER_OTLP_TRACES_HEADERS` or `OTEL_EXPORTER_OTLP_HEADERS` (may hold credentials: never logged). */
  headers: Record<string, string>;
  /** `OTEL_SERVICE_NAME` (default `oauth-gateway`) and `OTEL_RESOURCE_ATTRIBUTES`. */
  resource: Record<string, string>;
  sampler: { name: Sampler; ratio: number };
  /** `OTEL_PROPAGATORS`: the W3C ones (default both). */
  propagators: Array<'tracecontext' | 'baggage'>;
  /** `OTEL_BSP_SCHEDULE_DELAY`: how often queued spans are exported (default 5000 ms). */
  scheduleDelayMs: number;
}

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
type Sampler = (typeof SAMPLERS)[number];
const DEFAULT_ENDPOINT = 'http://localhost:4318';

/** Undefined when tracing is off: `OTEL_TRACES_EXPORTER=none`, or unset with no OTLP endpoint either. */
export function readTracing(env: Record<string, string>, problems: string[]): TracingConfig | undefined {
  const exporter = env.OTEL_TRACES_EXPORTER;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') {
    problems.push('OTEL_TRACES_EXPORTER: must be otlp or none (the gateway exports traces over OTLP/HTTP only)');
    return undefined;
  }
  if (exporter === 'none' || (exporter === undefined && endpoint === undefined)) return undefined;
  const before = problems.length;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  const protocolName =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') problems.push(`${protocolName}: must be http/protobuf or http/json`);
  const url = tracesUrl(env, problems);
  const headers = keyValues(
    env.OTEL_EXPORTER_OTLP_TRACES_HEADERS !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS',
    env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS,
    problems,
  );
  const resource = {
    ...keyValues('OTEL_RESOURCE_ATTRIBUTES', env.OTEL_RESOURCE_ATTRIBUTES, problems),
    'service.name': env.OTEL_SERVICE_NAME ?? 'oauth-gateway',
  };
  const sampler = readSampler(env, problems);
  const propagators = readPropagators(env.OTEL_PROPAGATORS, problems);
  const scheduleDelayMs = Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 5000);
  if (!Number.isInteger(scheduleDelayMs) || scheduleDelayMs < 1 || scheduleDelayMs > 60_000)
    problems.push('OTEL_BSP_SCHEDULE_DELAY: must be a whole number of milliseconds from 1 to 60000');
  if (problems.length > before) return undefined;
  return { protocol: protocol as TracingConfig['protocol'], url: url!, headers, resource, sampler, propagators, scheduleDelayMs };
}

function tracesUrl(env: Record<string, string>, problems: string[]): string | undefined {
  const [name, value] =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined
      ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT]
      : ['OTEL_EXPORTER_OTLP_ENDPOINT', env.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_ENDPOINT];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${name}: must be an absolute http(s) URL`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${name}: must be an absolute http(s) URL`);
    return undefined;
  }
  // The signal-specific variable is the whole URL; the general one is a base the signal's path is appended to.
  return name === 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' ? url.href : `${url.href.replace(/\/+$/, '')}/v1/traces`;
}

/** `key1=value1,key2=value2`, values percent-decoded (the W3C Baggage format the OTel spec uses). */
function keyValues(name: string, value: string | undefined, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  for (const pair of value.split(',')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    let decoded: string | undefined;
    try {
      decoded = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      decoded = undefined;
    }
    if (at <= 0 || key === '' || decoded === undefined) {
      problems.push(`${name}: must be a comma-separated list of key=value (percent-encoded values)`);
      return {};
    }
    out[key] = decoded;
  }
  return out;
}

function readSampler(env: Record<string, string>, problems: string[]): TracingConfig['sampler'] {
  const name = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on') as Sampler;
  if (!SAMPLERS.includes(name)) problems.push(`OTEL_TRACES_SAMPLER: must be one of ${SAMPLERS.join(', ')}`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  const ratio = arg === undefined ? 1 : Number(arg);
  if (name.endsWith('traceidratio') && !(arg === undefined || (/^[0-9.]+$/.test(arg) && ratio >= 0 && ratio <= 1))) {
    problems.push('OTEL_TRACES_SAMPLER_ARG: must be a ratio from 0 to 1');
  }
  return { name, ratio };
}

function readPropagators(value: string | undefined, problems: string[]): TracingConfig['propagators'] {
  const names = (value ?? 'tracecontext,baggage').split(',').map((n) => n.trim());
  const unknown = names.filter((n) => n !== 'tracecontext' && n !== 'baggage' && n !== 'none');
  if (unknown.length > 0) problems.push('OTEL_PROPAGATORS: the gateway knows tracecontext, baggage and none');
  return names.filter((n): n is 'tracecontext' | 'baggage' => n === 'tracecontext' || n === 'baggage');
}
