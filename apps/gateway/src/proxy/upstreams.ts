import { Pool } from 'undici';
import type { GatewayConfig } from '../config/gateway-config.js';

export interface Upstream {
  provider: string;
  pool: Pool;
  /** The API URL's path without its trailing slash (`''` at the root). */
  basePath: string;
}

/** Sized for many concurrent callers per origin; keep-alive sockets are reused between them. */
const CONNECTIONS_PER_ORIGIN = 128;

/** One keep-alive undici `Pool` per API origin (providers on the same host share it). */
export class Upstreams {
  private readonly byProvider = new Map<string, Upstream>();
  private readonly pools = new Map<string, Pool>();

  constructor(config: Pick<GatewayConfig, 'providers' | 'upstreamTimeoutMs'>) {
    for (const provider of config.providers) {
      const url = new URL(provider.apiUrl);
      let pool = this.pools.get(url.origin);
      if (!pool) {
        pool = new Pool(url.origin, {
          connections: CONNECTIONS_PER_ORIGIN,
          headersTimeout: config.upstreamTimeoutMs,
          bodyTimeout: config.upstreamTimeoutMs,
          connect: { timeout: Math.min(config.upstreamTimeoutMs, 10_000) },
        });
        this.pools.set(url.origin, pool);
      }
      this.byProvider.set(provider.name, { provider: provider.name, pool, basePath: url.pathname.replace(/\/+$/, '') });
    }
  }

  get(provider: string): Upstream | undefined {
    return this.byProvider.get(provider);
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()));
  }
}
