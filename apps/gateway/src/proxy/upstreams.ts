import type { OnApplicationShutdown } from '@nestjs/common';
import { Pool, type Dispatcher } from 'undici';
import type { GatewayConfig, ProviderConfig } from '../config/gateway-config.js';
import { egressDispatcher, tlsConnectOptions, type PoolSettings } from './egress-dispatcher.js';

export interface Upstream {
  provider: string;
  /**
   * Requests without a body: this provider's own keep-alive pool, even when another provider has
   * the same origin, so that requests one provider's API holds never take another's connections.
   */
  pool: Dispatcher;
  /**
   * Requests with a body: this provider's own pool too. A body arrives at the caller's pace and
   * holds its connection until the last byte, so slow uploads can only ever wait on each other.
   */
  uploads: Dispatcher;
  /** The API URL's origin (`https://api.example.com`). */
  origin: string;
  /** The API URL's path without its trailing slash (`''` at the root). */
  basePath: string;
  /** This provider's requests admitted and not finished yet (waiting for a token or a connection included). */
  inflight: number;
}

/** The pools' statistics (undici's `PoolStats`), summed over every direct pool (a proxy's pools are its agent's). */
export interface UpstreamStats {
  connected: number;
  free: number;
  pending: number;
  queued: number;
  running: number;
  size: number;
}

/** Sized for many concurrent callers per provider; keep-alive sockets are reused between them. */
export const CONNECTIONS_PER_POOL = 128;

/**
 * The undici pools to the providers' APIs, closed by Nest once the HTTP server has stopped. A
 * provider with neither an egress proxy nor TLS options gets plain pools; TLS options go to the
 * pools' `connect`; a proxy gets undici's `ProxyAgent` (egress-dispatcher.ts).
 */
export class Upstreams implements OnApplicationShutdown {
  private readonly byProvider = new Map<string, Upstream>();
  private readonly pools: Pool[] = [];
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(config: Pick<GatewayConfig, 'providers' | 'upstreamTimeoutMs'>, connections = CONNECTIONS_PER_POOL) {
    const settings: PoolSettings = {
      connections,
      headersTimeout: config.upstreamTimeoutMs,
      bodyTimeout: config.upstreamTimeoutMs,
      connectTimeout: Math.min(config.upstreamTimeoutMs, 10_000),
    };
    for (const provider of config.providers) {
      const url = new URL(provider.apiUrl);
      this.byProvider.set(provider.name, {
        provider: provider.name,
        pool: this.open(url.origin, provider, settings),
        uploads: this.open(url.origin, provider, settings),
        origin: url.origin,
        basePath: url.pathname.replace(/\/+$/, ''),
        inflight: 0,
      });
    }
  }

  private open(origin: string, provider: ProviderConfig, settings: PoolSettings): Dispatcher {
    const { apiProxy, tls } = provider.transport ?? {};
    if (apiProxy !== undefined) {
      const egress = egressDispatcher(origin, apiProxy, tls, settings);
      this.closers.push(egress.close);
      return egress.dispatcher;
    }
    const pool = new Pool(origin, {
      connections: settings.connections,
      headersTimeout: settings.headersTimeout,
      bodyTimeout: settings.bodyTimeout,
      connect: { timeout: settings.connectTimeout, ...tlsConnectOptions(tls) },
    });
    this.pools.push(pool);
    this.closers.push(() => pool.destroy());
    return pool;
  }

  get(provider: string): Upstream | undefined {
    return this.byProvider.get(provider);
  }

  /** The proxied requests admitted and not yet settled, over every provider. */
  inflight(): number {
    let count = 0;
    for (const upstream of this.byProvider.values()) count += upstream.inflight;
    return count;
  }

  stats(): UpstreamStats {
    const total: UpstreamStats = { connected: 0, free: 0, pending: 0, queued: 0, running: 0, size: 0 };
    for (const { stats } of this.pools) {
      for (const key of Object.keys(total) as Array<keyof UpstreamStats>) total[key] += stats[key];
    }
    return total;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    await Promise.all(this.closers.map((close) => close()));
  }
}
