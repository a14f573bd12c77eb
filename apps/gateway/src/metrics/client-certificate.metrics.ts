import { Gauge } from 'prom-client';
import type { ProviderConfig } from '../config/gateway-config.js';
import type { TlsRotation } from '../config/tls-rotation.js';
import { MetricsService } from './metrics.service.js';

/**
 * `gateway_tls_client_cert_expiry_seconds{provider}`: time left of each provider's client
 * certificate in use (a rotated one from its rotation on), read at scrape time, so that an alert
 * fires well before mutual TLS starts failing (no series for providers without one).
 */
export class ClientCertificateMetrics {
  constructor(
    metrics: MetricsService,
    providers: readonly ProviderConfig[],
    now: () => number = Date.now,
    inUse?: Pick<TlsRotation, 'certExpiresAt'>,
  ) {
    const expiring = providers.flatMap((p) => {
      const startup = p.transport?.certExpiresAt;
      return startup === undefined ? [] : [[p.name, () => inUse?.certExpiresAt(p.name) ?? startup] as const];
    });
    new Gauge({
      name: 'gateway_tls_client_cert_expiry_seconds',
      help: "Seconds until the provider's TLS client certificate (<NAME>_TLS_CERT) expires",
      labelNames: ['provider'] as const,
      registers: [metrics.registry],
      collect() {
        for (const [provider, expiresAt] of expiring) this.set({ provider }, Math.round((expiresAt() - now()) / 1000));
      },
    });
  }
}
