import { Inject, Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { ApiKeys } from '../auth/api-keys.js';
import { ApiKeysReloader } from '../auth/api-keys.reloader.js';
import { RateLimiter } from '../ratelimit/rate-limiter.interface.js';
import { MetricsService } from './metrics.service.js';

/**
 * The callers' gauges, read at scrape time: how many keys are loaded, whether the last reload of
 * the keys file failed, and whether rate limits fell back to each instance on its own. Nothing
 * here is labelled by key: a key's name would be a label per caller (cardinality), its digest a leak.
 */
@Injectable()
export class CallerMetrics {
  constructor(metrics: MetricsService, apiKeys: ApiKeys, reloader: ApiKeysReloader, @Inject(RateLimiter) limiter: RateLimiter) {
    const registers = [metrics.registry];
    new Gauge({
      name: 'gateway_keys_loaded',
      help: 'API keys in use (from GATEWAY_API_KEYS_FILE or GATEWAY_API_KEYS)',
      registers,
      collect() {
        this.set(apiKeys.size);
      },
    });
    new Gauge({
      name: 'gateway_keys_reload_failed',
      help: '1 while the last reload of GATEWAY_API_KEYS_FILE failed (the previous keys stay in use), until a good file loads; else 0',
      registers,
      collect() {
        this.set(reloader.failed ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gateway_rate_limit_degraded',
      help: '1 while Redis is configured but unreachable and each instance applies the rate limits on its own, else 0',
      registers,
      collect() {
        this.set(limiter.isDegraded() ? 1 : 0);
      },
    });
  }
}
