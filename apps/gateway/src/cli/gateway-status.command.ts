import { keyDigest } from '../config/api-keys.config.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Env } from '../config/parse-config.js';
import type { tokenStatusView } from '../tokens/token-status.view.js';
import type { CliIo } from './cli-io.js';

type TokenStatus = ReturnType<typeof tokenStatusView>;

/** States that need someone's attention: `status` exits 1 when a provider is in one. */
const TROUBLE = new Set(['expired', 'failing', 'cooling_down', 'circuit_open']);

/**
 * `status`: the token states live in the running gateway (a one-shot process has none of its
 * own, and asking the token endpoints would only add a token), so this asks the gateway's
 * `/tokens` with a key allowed `*`. Exit 0 when it answered and no provider is in trouble.
 */
export async function printGatewayStatus(config: GatewayConfig, env: Env, gatewayUrl: string | undefined, io: CliIo): Promise<number> {
  const key = adminKey(config, env);
  if (key === undefined) {
    io.err(
      'status asks the running gateway (GET /tokens), which needs a key allowed *: in GATEWAY_API_KEY, or in plain text in GATEWAY_API_KEYS',
    );
    return 1;
  }
  const base = gatewayUrl ?? localUrl(config);
  let providers: TokenStatus[];
  try {
    const answer = await fetch(new URL('/tokens', base), { headers: { 'x-api-key': key }, signal: AbortSignal.timeout(5_000) });
    if (!answer.ok) {
      io.err(`status: ${base}/tokens answered ${answer.status}`);
      return 1;
    }
    ({ providers } = (await answer.json()) as { providers: TokenStatus[] });
  } catch {
    io.err(`status: no gateway answered at ${base} (start one, or point at it with --gateway URL)`);
    return 1;
  }
  const rows = providers.map((p) => [
    p.provider,
    p.state,
    p.expiresAt ?? '-',
    p.lastError?.description ?? (p.obtainedAt ? `obtained ${p.obtainedAt}` : ''),
  ]);
  const heading = ['provider', 'state', 'expires', 'details'];
  const widths = [0, 1, 2].map((c) => Math.max(heading[c].length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell))
      .join('  ')
      .trimEnd();
  io.out(line(heading));
  rows.forEach((row) => io.out(line(row)));
  return providers.some((p) => TROUBLE.has(p.state)) ? 1 : 0;
}

/**
 * The key to present: `GATEWAY_API_KEY` (the caller's own, when the configuration holds only
 * digests), else a plain `GATEWAY_API_KEYS` entry whose configured key is allowed `*`.
 */
function adminKey(config: GatewayConfig, env: Env): string | undefined {
  if (env.GATEWAY_API_KEY) return env.GATEWAY_API_KEY;
  const everything = new Set(config.apiKeys.filter((entry) => entry.providers === '*').map((entry) => entry.digest));
  const plain = (env.GATEWAY_API_KEYS ?? '').split(',').map((entry) => entry.trim().split(':')[0]);
  return plain.find((key) => key !== '' && key !== 'sha256' && everything.has(keyDigest(key)));
}

/** The gateway of this configuration, as seen from this machine. */
function localUrl({ host, port }: GatewayConfig): string {
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
