import type { GatewayConfig } from '../config/gateway-config.js';
import type { tokenStatusView } from '../tokens/token-status.view.js';
import type { CliIo } from './token-cli.js';

type TokenStatus = ReturnType<typeof tokenStatusView>;

/** States that need someone's attention: `status` exits 1 when a provider is in one. */
const TROUBLE = new Set(['expired', 'failing', 'cooling_down', 'circuit_open']);

/**
 * `status`: the token states live in the running gateway (a one-shot process has none of its
 * own, and asking the token endpoints would only add a token), so this asks the gateway's
 * `/tokens` with a key allowed `*`. Exit 0 when it answered and no provider is in trouble.
 */
export async function printGatewayStatus(config: GatewayConfig, gatewayUrl: string | undefined, io: CliIo): Promise<number> {
  const key = config.apiKeys.find((entry) => entry.providers === '*')?.key;
  if (key === undefined) {
    io.err('status asks the running gateway (GET /tokens), which needs a key allowed * in GATEWAY_API_KEYS');
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
  const rows = providers.map((p) => [p.provider, p.state, p.expiresAt ?? '-', p.lastError?.description ?? (p.obtainedAt ? `obtained ${p.obtainedAt}` : '')]);
  const heading = ['provider', 'state', 'expires', 'details'];
  const widths = [0, 1, 2].map((c) => Math.max(heading[c].length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell)).join('  ').trimEnd();
  io.out(line(heading));
  rows.forEach((row) => io.out(line(row)));
  return providers.some((p) => TROUBLE.has(p.state)) ? 1 : 0;
}

/** The gateway of this configuration, as seen from this machine. */
function localUrl({ host, port }: GatewayConfig): string {
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}
