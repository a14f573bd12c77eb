import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { PROVIDER_TOKEN_STATES, TokenService } from '@oauth-gateway/oauth-providers';
import { MetricsService } from './metrics.service.js';

/**
 * The tokens' state, read at scrape time: cache hits and misses (plain integers kept by
 * `TokenService`), time to expiry, state, circuit and store. Nothing here runs between scrapes.
 */
@Injectable()
export class TokenStateMetrics {
  constructor(metrics: MetricsService, tokens: TokenService) {
    const registers = [metrics.registry];
    const cacheCounters = [
      { name: 'gateway_token_cache_hits_total', help: 'Token requests served from the local cache without any I/O', count: 'hits' },
      {
        name: 'gateway_token_cache_misses_total',
        help: 'Token requests that found no valid cached token (they join or start a renewal)',
        count: 'misses',
      },
    ] as const;
    for (const { name, help, count } of cacheCounters) {
      new Counter({
        name,
        help,
        labelNames: ['provider'] as const,
        registers,
        collect() {
          this.reset();
          for (const counters of tokens.cacheCounters()) this.inc({ provider: counters.provider }, counters[count]);
        },
      });
    }
    new Gauge({
      name: 'gateway_token_expiry_seconds',
      help: "Seconds until the provider's cached token expires (negative once expired; absent without a token)",
      labelNames: ['provider'] as const,
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const s of tokens.status()) if (s.expiresAt !== undefined) this.set({ provider: s.provider }, (s.expiresAt - now) / 1000);
      },
    });
    new Gauge({
      name: 'gateway_token_state',
      help: "The provider's token state: 1 for the current one, 0 for the others",
      labelNames: ['provider', 'state'] as const,
      registers,
      collect() {
        for (const s of tokens.status())
          for (const state of PROVIDER_TOKEN_STATES) this.set({ provider: s.provider, state }, s.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gateway_token_circuit_open',
      help: "1 while the provider's circuit breaker is open (token calls fail fast), else 0",
      labelNames: ['provider'] as const,
      registers,
      collect() {
        for (const s of tokens.status()) this.set({ provider: s.provider }, s.circuitOpenUntil === undefined ? 0 : 1);
      },
    });
    new Gauge({
      name: 'gateway_token_store_degraded',
      help: '1 while the shared token store (Redis) is unreachable and instances work from local copies, else 0',
      labelNames: ['shared'] as const,
      registers,
      collect() {
        this.reset();
        const { shared, degraded } = tokens.storeStatus();
        this.set({ shared: String(shared) }, degraded ? 1 : 0);
      },
    });
  }
}
