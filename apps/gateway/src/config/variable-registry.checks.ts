import type { NamedProvider } from './provider-config.js';
import { VariableRegistry } from './variable-registry.js';

const NODE_ENVS = ['production', 'development', 'test'];

/** Who reads the configuration: the gateway checks its callers' keys; the CLIs, which serve no caller, do not. */
export type ConfigReader = 'gateway' | 'cli';

/**
 * The start-up warnings: variables under the gateway's prefixes that nothing reads (with the
 * closest known name), a `NODE_ENV` that is none of the three, and the token CLI's
 * `GATEWAY_API_KEY` where the gateway has no key. Names and `NODE_ENV` only: never a value.
 */
export function startupWarnings(
  rawEnv: Record<string, string | undefined>,
  named: readonly NamedProvider[],
  reader: ConfigReader,
): string[] {
  const set = (name: string) => Boolean(rawEnv[name]?.trim());
  const lines = new VariableRegistry(named).unknownLines(Object.keys(rawEnv));
  const nodeEnv = rawEnv.NODE_ENV?.trim();
  if (nodeEnv && !NODE_ENVS.includes(nodeEnv)) {
    // NODE_ENV is not a secret; quoted and cut short so that a stray value stays one readable line.
    lines.push(`NODE_ENV: ${JSON.stringify(nodeEnv.slice(0, 40))} is not production, development or test; it is treated as not production`);
  }
  if (reader === 'gateway' && set('GATEWAY_API_KEY') && !set('GATEWAY_API_KEYS') && !set('GATEWAY_API_KEYS_FILE')) {
    lines.push(
      "GATEWAY_API_KEY: the token CLI's variable, not read by the gateway, and no caller key is configured: did you mean GATEWAY_API_KEYS (or GATEWAY_API_KEYS_FILE)?",
    );
  }
  return lines;
}

/** In production a gateway without a single caller key answers every caller 401 while its probes say ready: a start-up problem. */
export function noCallerKeyProblem(rawEnv: Record<string, string | undefined>): string {
  const cli = rawEnv.GATEWAY_API_KEY?.trim() ? " (GATEWAY_API_KEY is the token CLI's variable: the gateway does not read it)" : '';
  return `GATEWAY_API_KEYS: no caller key is configured and NODE_ENV=production (every caller would get 401): set GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE${cli}`;
}
