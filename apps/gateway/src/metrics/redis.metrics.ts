import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { TokenStore } from '@oauth-gateway/oauth-providers';
import { RedisTokenStore, type RedisCommandHealth } from '@oauth-gateway/oauth-providers/redis';
import { RateLimiter } from '../ratelimit/rate-limiter.interface.js';
import { RedisRateLimiter } from '../ratelimit/redis.rate-limiter.js';
import { MetricsService } from './metrics.service.js';

/**
 * Redis commands that timed out, per use of Redis (`token_store`, `rate_limit`), read at scrape
 * time; only exported when Redis is configured. Whether each use is degraded is on the token and
 * caller gauges.
 */
@Injectable()
export class RedisMetrics {
  constructor(metrics: MetricsService, @Inject(TokenStore) store: TokenStore, @Inject(RateLimiter) limiter: RateLimiter) {
    const uses: RedisCommandHealth[] = [];
    if (store instanceof RedisTokenStore) uses.push(store.health);
    if (limiter instanceof RedisRateLimiter) uses.push(limiter.health);
    if (uses.length === 0) return;
    new Counter({
      name: 'gateway_redis_command_timeouts_total',
      help: 'Redis commands without an answer within the command timeout (the caller went on without Redis), by use: token_store, rate_limit',
      labelNames: ['use'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const health of uses) this.inc({ use: health.use }, health.timeouts);
      },
    });
  }
}
