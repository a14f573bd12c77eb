import type { OnApplicationShutdown } from '@nestjs/common';
import { Pool, type Dispatcher } from 'undici';
import type { GatewayConfig, ProviderConfig } from '../config/gateway-config.js';
import type { ProviderTls } from '../config/provider-transport.js';
import { egressDispatcher, tlsConnectOptions, type PoolSettings } from './egress-dispatcher.js';

/** Each provider's TLS material in use, and word when it changes (a rotation of its files). */
export interface UpstreamTls {
  tls(provider: string): ProviderTls | undefined;
  onChange(listener: (provider: string) => void): void;
}

/** A dispatcher the gateway opened: its direct pool, if it is one, and how to close it. */
interface Opened {
  dispatcher: Dispatcher;
  pool?: Pool;
  /** Lets the requests on it finish. */
  close(): Promise<void>;
  /** Ends them: at shutdown, once the HTTP server has stopped. */
  destroy(): Promise<void>;
}

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
 * pools' `connect`; a proxy gets undici's `ProxyAgent` (egress-dispatcher.ts). When a provider's
 * TLS material is rotated, new dispatchers take its next requests and the old ones are closed
 * gracefully: the requests on them finish, on the connections they had.
 */
export class Upstreams implements OnApplicationShutdown {
  private readonly byProvider = new Map<string, Upstream>();
  /** Every dispatcher still open, in use or closing after a rotation. */
  private readonly opened = new Set<Opened>();
  private readonly current = new Map<string, Opened[]>();
  private readonly settings: PoolSettings;
  private closed = false;

  constructor(
    private readonly config: Pick<GatewayConfig, 'providers' | 'upstreamTimeoutMs'>,
    connections = CONNECTIONS_PER_POOL,
    private readonly tls?: UpstreamTls,
  ) {
    this.settings = {
      connections,
      headersTimeout: config.upstreamTimeoutMs,
      bodyTimeout: config.upstreamTimeoutMs,
      connectTimeout: Math.min(config.upstreamTimeoutMs, 10_000),
    };
    for (const provider of config.providers) {
      const url = new URL(provider.apiUrl);
      const [pool, uploads] = this.openFor(provider);
      this.byProvider.set(provider.name, {
        provider: provider.name,
        pool,
        uploads,
        origin: url.origin,
        basePath: url.pathname.replace(/\/+$/, ''),
        inflight: 0,
      });
    }
    tls?.onChange((name) => this.rotate(name));
  }

  /** New dispatchers with the provider's TLS material in use; the old ones finish what they carry, then close. */
  rotate(name: string): void {
    const upstream = this.byProvider.get(name);
    const provider = this.config.providers.find((p) => p.name === name);
    // After shutdown began, a late rotation would open pools nobody closes.
    if (upstream === undefined || provider === undefined || this.closed) return;
    const old = this.current.get(name) ?? [];
    [upstream.pool, upstream.uploads] = this.openFor(provider);
    for (const opened of old) {
      void opened
        .close()
        .catch(() => undefined)
        .finally(() => this.opened.delete(opened));
    }
  }

  private openFor(provider: ProviderConfig): [Dispatcher, Dispatcher] {
    const origin = new URL(provider.apiUrl).origin;
    const tls = this.tls?.tls(provider.name) ?? provider.transport?.tls;
    const both = [this.open(origin, provider.transport?.apiProxy, tls), this.open(origin, provider.transport?.apiProxy, tls)];
    this.current.set(provider.name, both);
    return [both[0].dispatcher, both[1].dispatcher];
  }

  private open(origin: string, apiProxy: string | undefined, tls: ProviderTls | undefined): Opened {
    const { settings } = this;
    let opened: Opened;
    if (apiProxy !== undefined) {
      opened = egressDispatcher(origin, apiProxy, tls, settings);
    } else {
      const pool = new Pool(origin, {
        connections: settings.connections,
        headersTimeout: settings.headersTimeout,
        bodyTimeout: settings.bodyTimeout,
        connect: { timeout: settings.connectTimeout, ...tlsConnectOptions(tls) },
      });
      opened = { dispatcher: pool, pool, close: () => pool.close(), destroy: () => pool.destroy() };
    }
    this.opened.add(opened);
    return opened;
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
    for (const { pool } of this.opened) {
      if (pool === undefined) continue;
      const { stats } = pool;
      for (const key of Object.keys(total) as Array<keyof UpstreamStats>) total[key] += stats[key];
    }
    return total;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.opened].map((opened) => opened.destroy()));
    this.opened.clear();
  }
}
