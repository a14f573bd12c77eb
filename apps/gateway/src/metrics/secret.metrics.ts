import { Injectable, Optional } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { SecretFileWatcher } from '../config/secret-file.watcher.js';
import { TlsRotation } from '../config/tls-rotation.js';
import { MetricsService } from './metrics.service.js';

/**
 * Whether each provider's secret files were last read well, at scrape time. The gauge is always
 * registered, so that the alerting rules find it; only providers with a secret given as a file have
 * a series. The value of a secret is never a label or a value here.
 */
@Injectable()
export class SecretMetrics {
  constructor(metrics: MetricsService, @Optional() watcher?: SecretFileWatcher, @Optional() tls?: TlsRotation) {
    new Gauge({
      name: 'gateway_secret_reload_failed',
      help: "1 while the last read of one of the provider's secret files failed (the current value stays in use), until a good read; else 0",
      labelNames: ['provider'] as const,
      registers: [metrics.registry],
      collect() {
        if (watcher === undefined) return;
        // A provider's TLS files also fail as a whole: a certificate and key that do not match (tls-rotation.ts).
        for (const provider of watcher.providers()) this.set({ provider }, watcher.failed(provider) || tls?.failed(provider) ? 1 : 0);
      },
    });
  }
}
